//! Reports: one run over the whole loaded tenant (StartReport, then
//! GetReport polled until it has succeeded) against GetCustomerEquity, the
//! per-request scan that computes the same lifetime values; the scoring
//! process's resident memory while the run goes, against before it; and
//! GetReport of the stored result against GetScore.

use std::time::{Duration, Instant};

use anyhow::Context;
use rapport_proto::v1::{
    GetCustomerEquityRequest, GetReportRequest, GetScoreRequest, ReportRunState, StartReportRequest,
};

use super::{
    load::{self, Latency},
    procs::rss_of,
    report::{Report, Target as Goal},
    run::Run,
};

/// Sequential reads of each kind.
const READS: usize = 100;

/// The scoring process (the only one when all in one).
pub(super) fn scoring_pid(run: &Run<'_>) -> Option<u32> {
    let pids = run.target.pids();
    pids.iter()
        .find(|(name, _)| name.contains("scoring"))
        .or(pids.first())
        .map(|(_, pid)| *pid)
}

pub async fn reports(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let clients = run.target.clients()?;
    let pid = scoring_pid(run);
    let rss = || pid.and_then(rss_of).unwrap_or(0);

    let started = Instant::now();
    let equity = clients
        .scoring
        .clone()
        .get_customer_equity(GetCustomerEquityRequest {})
        .await
        .context("GetCustomerEquity")?
        .into_inner();
    let equity_s = started.elapsed().as_secs_f64();

    let before = rss();
    let mut peak = before;
    let started = Instant::now();
    let run_id = clients
        .reports
        .clone()
        .start_report(StartReportRequest {
            request_id: format!("bench-{}", uuid::Uuid::now_v7()),
            rankings: Vec::new(),
        })
        .await
        .context("StartReport")?
        .into_inner()
        .run
        .context("no run")?
        .run_id;
    let (run_s, customers) = loop {
        peak = peak.max(rss());
        let got = clients
            .reports
            .clone()
            .get_report(GetReportRequest {
                run_id: run_id.clone(),
            })
            .await
            .context("GetReport")?
            .into_inner();
        let state = got.run.as_ref().map_or(0, |r| r.state);
        if state == ReportRunState::Succeeded as i32 {
            let total = got.report.and_then(|r| r.total).map_or(0, |t| t.customers);
            break (started.elapsed().as_secs_f64(), total);
        }
        if state == ReportRunState::Failed as i32 {
            anyhow::bail!("the report run failed: {:?}", got.run);
        }
        if started.elapsed() > Duration::from_secs(3_600) {
            anyhow::bail!("the report run took over an hour");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let condition = format!("{customers} customers, all measures, nothing else running");
    report.ratio(
        "Report run: whole tenant",
        condition.clone(),
        run_s,
        "GetCustomerEquity (per-request scan)",
        equity_s,
        "s",
        Goal::None,
    );
    report.value(
        "Report run: customers per second",
        condition.clone(),
        customers as f64 / run_s.max(1e-9),
        "customers/s",
        Goal::None,
    );
    if before > 0 {
        report.ratio(
            "Report run: scoring peak RSS",
            "sampled every 20 ms while the run went".to_owned(),
            peak as f64 / (1024.0 * 1024.0),
            "RSS before the run",
            before as f64 / (1024.0 * 1024.0),
            "MiB",
            Goal::None,
        );
    }

    let ids: Vec<String> = run.ids.iter().take(READS).cloned().collect();
    let mut scores = load::histogram();
    let mut reads = load::histogram();
    for id in &ids {
        let t = Instant::now();
        clients
            .scoring
            .clone()
            .get_score(GetScoreRequest {
                customer_id: id.clone(),
            })
            .await
            .context("GetScore")?;
        scores.record(load::micros_since(t)).ok();
        let t = Instant::now();
        clients
            .reports
            .clone()
            .get_report(GetReportRequest::default())
            .await
            .context("GetReport")?;
        reads.record(load::micros_since(t)).ok();
    }
    let (score, read) = (Latency::of(&scores), Latency::of(&reads));
    let condition = format!("{READS} calls each, one at a time, the latest report");
    report.latency_ratios("GetReport (stored)", &condition, &read, "GetScore", &score);
    report.add_json(
        "reports",
        serde_json::json!({
            "customers": customers,
            "run_seconds": run_s,
            "equity_seconds": equity_s,
            "equity_customers": equity.customers,
            "rss_before_bytes": before,
            "rss_peak_bytes": peak,
            "get_report": read,
            "get_score": score,
        }),
    );
    Ok(())
}
