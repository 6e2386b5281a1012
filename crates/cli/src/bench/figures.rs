//! Population figures: SummarizeScores and GetCustomerEquity computed in the
//! request (a tenant within `scoring.inline_figures_limit`) against the
//! figures the refresh worker stores for a larger tenant; the worker's pass
//! over the tenant and the scoring process's memory while it runs. The suite
//! is restarted with the limit below the population for the stored half, and
//! restarted again with its usual settings afterwards.

use std::time::{Duration, Instant};

use anyhow::Context;
use rapport_kit::{Db, db::Id};
use rapport_proto::v1::{
    GetCustomerEquityRequest, GetCustomerEquityResponse, GetScoreRequest, SummarizeScoresRequest,
};
use tonic::Code;

use super::{
    load::{self, Latency},
    procs::rss_of,
    report::{Report, Target as Goal},
    reports::scoring_pid,
    run::Run,
};

/// Calls computed in the request, one at a time (each reads the tenant).
const INLINE_READS: usize = 5;
/// Calls answered from the stored figures, one at a time.
const STORED_READS: usize = 100;
/// Longest wait for the worker's first pass.
const PASS_TIMEOUT: Duration = Duration::from_secs(3_600);

/// Calls computed in the request stop early once they have taken this long
/// together (at least one is made): at a million customers one
/// GetCustomerEquity computed in the request takes minutes.
const INLINE_BUDGET: Duration = Duration::from_secs(120);

/// Times `n` calls of `call`, one at a time, or as many as end within
/// `budget` (at least one).
async fn timed<F, Fut, T>(n: usize, budget: Duration, mut call: F) -> anyhow::Result<Latency>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut h = load::histogram();
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        call().await?;
        h.record(load::micros_since(t)).ok();
        if started.elapsed() >= budget {
            break;
        }
    }
    Ok(Latency::of(&h))
}

/// Times `n` calls of `equity` (GetCustomerEquity), when the tenant has a
/// fit to compute it from.
async fn time_equity<F, Fut>(
    fitted: bool,
    n: usize,
    budget: Duration,
    equity: F,
) -> anyhow::Result<Option<Latency>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<
            Output = Result<tonic::Response<GetCustomerEquityResponse>, tonic::Status>,
        >,
{
    if !fitted {
        return Ok(None);
    }
    let latency = timed(n, budget, || {
        let call = equity();
        async move { call.await.context("GetCustomerEquity") }
    });
    Ok(Some(latency.await?))
}

/// (kind, customers, duration in ms) of the tenant's stored figures.
async fn stored_rows(db: &Db, tenant: uuid::Uuid) -> anyhow::Result<Vec<(String, i64, i64)>> {
    let sql = "SELECT kind, customers, duration_ms FROM population_figures \
               WHERE tenant_id = $1 ORDER BY kind";
    Ok(rapport_kit::on_pool!(db, pool => {
        sqlx::query_as(sql).bind(Id(tenant)).fetch_all(pool).await
    })?)
}

pub async fn figures(run: &mut Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let clients = run.target.clients()?;
    let scoring = clients.scoring.clone();
    let summarize = || {
        let mut c = scoring.clone();
        async move {
            let answer = c.summarize_scores(SummarizeScoresRequest {}).await;
            Ok::<_, anyhow::Error>(answer.context("SummarizeScores")?.into_inner())
        }
    };
    let equity = || {
        let mut c = scoring.clone();
        async move { c.get_customer_equity(GetCustomerEquityRequest {}).await }
    };
    let first = summarize().await?;
    anyhow::ensure!(
        !first.stored,
        "SummarizeScores answered stored figures before the limit was lowered"
    );
    let customers = first.customers;
    let inline_summary = timed(INLINE_READS, INLINE_BUDGET, summarize).await?;
    // Equity needs a fit (the rescore scenario makes one); without it the
    // equity half is left out.
    let fitted = match equity().await {
        Ok(_) => true,
        Err(s) if s.code() == Code::FailedPrecondition => false,
        Err(s) => return Err(s).context("GetCustomerEquity"),
    };
    let inline_equity = time_equity(fitted, INLINE_READS, INLINE_BUDGET, equity).await?;

    // The stored half: every tenant above one score is "large".
    run.target
        .restart_with(vec![(
            "RAPPORT_SCORING__INLINE_FIGURES_LIMIT".to_owned(),
            "1".to_owned(),
        )])
        .await?;
    let clients = run.target.clients()?;
    let scoring = clients.scoring.clone();
    let summarize = || {
        let mut c = scoring.clone();
        async move { c.summarize_scores(SummarizeScoresRequest {}).await }
    };
    let equity = || {
        let mut c = scoring.clone();
        async move { c.get_customer_equity(GetCustomerEquityRequest {}).await }
    };
    let pid = scoring_pid(run);
    let rss = || pid.and_then(rss_of).unwrap_or(0);
    let before = rss();
    let mut peak = before;
    let started = Instant::now();
    loop {
        peak = peak.max(rss());
        let summary = match summarize().await {
            Ok(a) => a.into_inner().stored,
            Err(s) if s.code() == Code::Unavailable => false,
            Err(s) => return Err(s).context("SummarizeScores"),
        };
        let equity_ready = !fitted
            || match equity().await {
                Ok(a) => a.into_inner().stored,
                Err(s) if s.code() == Code::Unavailable => false,
                Err(s) => return Err(s).context("GetCustomerEquity"),
            };
        if summary && equity_ready {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < PASS_TIMEOUT,
            "the refresh worker stored no figures within {PASS_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let waited = started.elapsed().as_secs_f64();
    let db = run.target.db(rapport_scoring::SCHEMA)?;
    let rows = stored_rows(&db, run.target.tenant_id).await;
    db.close().await;
    let rows = rows?;
    let pass_ms: i64 = rows.iter().map(|r| r.2).sum();

    let ids: Vec<String> = run.ids.iter().take(STORED_READS).cloned().collect();
    let mut next = ids.iter().cycle();
    let score = timed(STORED_READS, Duration::MAX, || {
        let mut c = scoring.clone();
        let id = next.next().cloned().unwrap_or_default();
        async move {
            c.get_score(GetScoreRequest { customer_id: id })
                .await
                .context("GetScore")
        }
    })
    .await?;
    let stored_summary = timed(STORED_READS, Duration::MAX, || {
        let call = summarize();
        async move { call.await.context("SummarizeScores") }
    })
    .await?;
    let stored_equity = time_equity(fitted, STORED_READS, Duration::MAX, equity).await?;

    let condition = format!("{customers} customers, one call at a time");
    report.ratio(
        "SummarizeScores: stored against in the request, p50",
        condition.clone(),
        stored_summary.p50_us as f64 / 1000.0,
        "computed in the request",
        inline_summary.p50_us as f64 / 1000.0,
        "ms",
        Goal::None,
    );
    report.latency_ratios(
        "SummarizeScores (stored)",
        &condition,
        &stored_summary,
        "GetScore",
        &score,
    );
    if let (Some(stored), Some(inline)) = (&stored_equity, &inline_equity) {
        report.ratio(
            "GetCustomerEquity: stored against in the request, p50",
            condition.clone(),
            stored.p50_us as f64 / 1000.0,
            "computed in the request",
            inline.p50_us as f64 / 1000.0,
            "ms",
            Goal::None,
        );
    }
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    report.value(
        "Figures pass: the worker's computation over the tenant",
        format!("{customers} customers, {}", kinds.join(" + ")),
        pass_ms as f64 / 1000.0,
        "s",
        Goal::None,
    );
    if before > 0 {
        report.ratio(
            "Figures pass: scoring peak RSS",
            "sampled every 20 ms from the restart until both were stored".to_owned(),
            peak as f64 / (1024.0 * 1024.0),
            "RSS after the restart",
            before as f64 / (1024.0 * 1024.0),
            "MiB",
            Goal::None,
        );
    }
    report.add_json(
        "figures",
        serde_json::json!({
            "customers": customers,
            "inline_summary": inline_summary,
            "inline_equity": inline_equity,
            "stored_summary": stored_summary,
            "stored_equity": stored_equity,
            "get_score": score,
            "stored_rows": rows,
            "seconds_until_stored": waited,
            "rss_before_bytes": before,
            "rss_peak_bytes": peak,
        }),
    );
    run.target.restart_with(Vec::new()).await
}
