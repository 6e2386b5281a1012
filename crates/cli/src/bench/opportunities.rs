//! B2B opportunities: a pipeline history ingested over the loaded accounts,
//! then the time from the last batch accepted until the refit job has
//! stored every opportunity's probability (the pipeline no longer pending),
//! against reading those opportunities back through ListOpportunities;
//! then ListOpportunities and GetPipeline against GetScore, one at a time.

use std::time::{Duration, Instant};

use anyhow::Context;
use rapport_proto::v1::{
    GetPipelineRequest, GetScoreRequest, IngestOpportunityEventsRequest, ListOpportunitiesRequest,
    Money, OpportunityEvent, OpportunityEventKind, PipelineLevel,
};

use super::{
    load::{self, Latency},
    report::{Report, Target as Goal},
    run::Run,
};

/// Opportunities in the history (at the tiny size, a tenth).
const OPPORTUNITIES: usize = 5_000;
/// Events per ingest call.
const BATCH: usize = 1_000;
/// Sequential calls of each read.
const CALLS: usize = 100;
/// The stages an opportunity moves through, in order.
const STAGES: [&str; 3] = ["qualify", "proposal", "negotiate"];

/// A deterministic history: opportunity `n` of account `n mod accounts`
/// reaches stage `n mod 3`, and a quarter of those past the first stage
/// are won, a quarter lost, the rest open.
fn events(ids: &[String], count: usize) -> Vec<OpportunityEvent> {
    let now = chrono::Utc::now().timestamp();
    let mut out = Vec::with_capacity(count * 3);
    for n in 0..count {
        let account = &ids[(n * 7_919) % ids.len()];
        let opened = now - 86_400 * (30 + (n as i64 % 300));
        let reached = n % STAGES.len();
        let event = |k: usize, kind: OpportunityEventKind, stage: &str, at: i64| OpportunityEvent {
            source: "crm".into(),
            external_id: format!("bench-{n}-{k}"),
            customer_id: account.clone(),
            opportunity_id: format!("O-{n}"),
            kind: kind as i32,
            stage: stage.into(),
            amount: Some(Money {
                currency_code: "EUR".into(),
                minor_units: 100_000 + (n as i64 % 50) * 10_000,
            }),
            expected_close: Some(prost_types::Timestamp {
                seconds: now + 86_400 * 30,
                nanos: 0,
            }),
            occurred_at: Some(prost_types::Timestamp {
                seconds: at,
                nanos: 0,
            }),
            ..Default::default()
        };
        out.push(event(0, OpportunityEventKind::Created, STAGES[0], opened));
        for (s, stage) in STAGES.iter().enumerate().take(reached + 1).skip(1) {
            let at = opened + 86_400 * 7 * s as i64;
            out.push(event(s, OpportunityEventKind::StageChanged, stage, at));
        }
        let closed = opened + 86_400 * 25;
        match (reached > 0, n % 4) {
            (true, 0) => out.push(event(9, OpportunityEventKind::Won, STAGES[reached], closed)),
            (true, 1) => out.push(event(
                9,
                OpportunityEventKind::Lost,
                STAGES[reached],
                closed,
            )),
            _ => {}
        }
    }
    out
}

pub async fn opportunities(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let clients = run.target.clients()?;
    let mut client = clients.opportunities.clone();
    let count = if run.ids.len() < 1_000 {
        OPPORTUNITIES / 10
    } else {
        OPPORTUNITIES
    };
    let history = events(&run.ids, count);
    let rows = history.len();
    let started = Instant::now();
    for batch in history.chunks(BATCH) {
        let answer = client
            .ingest_opportunity_events(IngestOpportunityEventsRequest {
                events: batch.to_vec(),
            })
            .await
            .context("IngestOpportunityEvents")?
            .into_inner();
        anyhow::ensure!(
            answer.rejected.is_empty(),
            "events refused: {:?}",
            answer.rejected.first()
        );
    }
    let ingest_s = started.elapsed().as_secs_f64();
    let accepted = Instant::now();
    let refit_s = loop {
        let pipeline = client
            .get_pipeline(GetPipelineRequest {
                level: PipelineLevel::Tier as i32,
                page_size: 10,
                page_token: String::new(),
            })
            .await
            .context("GetPipeline")?
            .into_inner();
        let fitted = pipeline
            .model
            .as_ref()
            .is_some_and(|m| !m.pending && m.fitted_at.is_some());
        if fitted {
            break accepted.elapsed().as_secs_f64();
        }
        anyhow::ensure!(
            accepted.elapsed() < Duration::from_secs(600),
            "the refit did not finish within 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    // Reading every opportunity back, page by page.
    let started = Instant::now();
    let (mut token, mut read) = (String::new(), 0usize);
    loop {
        let page = client
            .list_opportunities(ListOpportunitiesRequest {
                page_size: 1_000,
                page_token: token,
                ..Default::default()
            })
            .await
            .context("ListOpportunities")?
            .into_inner();
        read += page.opportunities.len();
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let read_s = started.elapsed().as_secs_f64();
    let condition = format!("{count} opportunities, {rows} events, batches of {BATCH}");
    report.ratio(
        "Opportunities refit: accepted to stored",
        format!("{condition}, the job looking every 100 ms"),
        refit_s,
        "ListOpportunities of all of them",
        read_s,
        "s",
        Goal::None,
    );
    report.value(
        "Opportunity events ingest",
        condition,
        rows as f64 / ingest_s.max(1e-9),
        "rows/s",
        Goal::None,
    );

    let (mut scores, mut lists, mut pipelines) =
        (load::histogram(), load::histogram(), load::histogram());
    for id in run.ids.iter().take(CALLS) {
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
        client
            .list_opportunities(ListOpportunitiesRequest {
                customer_id: id.clone(),
                page_size: 20,
                ..Default::default()
            })
            .await
            .context("ListOpportunities")?;
        lists.record(load::micros_since(t)).ok();
        let t = Instant::now();
        client
            .get_pipeline(GetPipelineRequest {
                level: PipelineLevel::Tier as i32,
                page_size: 20,
                page_token: String::new(),
            })
            .await
            .context("GetPipeline")?;
        pipelines.record(load::micros_since(t)).ok();
    }
    let (score, list, pipeline) = (
        Latency::of(&scores),
        Latency::of(&lists),
        Latency::of(&pipelines),
    );
    let condition = format!("{CALLS} calls each, one at a time");
    report.latency_ratios(
        "ListOpportunities (one account)",
        &condition,
        &list,
        "GetScore",
        &score,
    );
    report.latency_ratios(
        "GetPipeline (by tier)",
        &condition,
        &pipeline,
        "GetScore",
        &score,
    );
    report.add_json(
        "opportunities",
        serde_json::json!({
            "opportunities": count,
            "events": rows,
            "ingest_seconds": ingest_s,
            "refit_seconds": refit_s,
            "read_all_seconds": read_s,
            "read": read,
            "get_score": score,
            "list_opportunities": list,
            "get_pipeline": pipeline,
        }),
    );
    Ok(())
}
