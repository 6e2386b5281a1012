//! The scenarios and the order they run in, each beside its baseline, on a
//! population loaded first.

use std::sync::Arc;

use super::{
    batch, customer_data, figures, freshness, ingest, json, loyalty, miss, opportunities,
    options::Scenario,
    pipeline, population, reads,
    report::{self, Report},
    reports, rule_stats,
    run::Run,
    settings::Settings,
    target::Target,
    worst,
};

/// Loads the population, then runs each of `scenarios` (all when empty) in
/// turn; a scenario that fails is recorded in the report and the next one
/// runs.
pub async fn run_all(
    target: &mut Target,
    s: &Settings,
    scenarios: &[Scenario],
    report: &mut Report,
) -> anyhow::Result<()> {
    let wanted = |sc: Scenario| scenarios.is_empty() || scenarios.contains(&sc);
    let clients = target.clients()?;
    let ingestion_db = target.db(rapport_ingestion::SCHEMA)?;
    eprintln!(
        "loading {} customers / {} transactions",
        s.population.customers, s.population.transactions
    );
    let loaded = population::load(&clients, &ingestion_db, &s.population, 1_000).await?;
    ingestion_db.close().await;
    let loaded_rows = loaded.transactions;
    let rows = loaded_rows as f64;
    report.value(
        "Population load: ingest",
        format!("{rows} rows, batches of 1000, 2 in flight"),
        rows / loaded.ingest_seconds,
        "rows/s",
        report::Target::None,
    );
    report.value(
        "Population load: applied",
        "ingest start to outbox drained".to_owned(),
        rows / loaded.applied_seconds,
        "rows/s",
        report::Target::None,
    );
    report.add_json("population", serde_json::to_value(&loaded)?);
    let mut run = Run {
        target,
        ids: Arc::new(loaded.customer_ids),
        settings: s,
    };
    anyhow::ensure!(
        !run.ids.is_empty(),
        "the population has no scored customers"
    );
    // The worst-memory scenario runs last and only when asked for: its
    // inputs fill the store and push every process to its peak.
    let scenarios: Vec<Scenario> = Scenario::ALL
        .into_iter()
        .filter(|sc| wanted(*sc))
        .chain(
            scenarios
                .contains(&Scenario::WorstMemory)
                .then_some(Scenario::WorstMemory),
        )
        .collect();
    for scenario in scenarios {
        eprintln!("scenario {scenario:?}");
        let result = match scenario {
            Scenario::Hit => match reads::warm(run.target, &run.ids).await {
                Ok(()) => reads::hit(&run, report).await,
                Err(e) => Err(e),
            },
            Scenario::Batch => match reads::warm(run.target, &run.ids).await {
                Ok(()) => batch::batch(&run, report).await,
                Err(e) => Err(e),
            },
            Scenario::Json => match reads::warm(run.target, &run.ids).await {
                Ok(()) => json::json(&run, report).await,
                Err(e) => Err(e),
            },
            Scenario::Ingest => ingest::run(&run, report).await,
            Scenario::Apply => pipeline::apply(&run, report).await,
            Scenario::Freshness => freshness::freshness(&run, report).await,
            Scenario::Rescore => {
                pipeline::rescore(run.target, run.ids.len(), loaded_rows, report).await
            }
            Scenario::Memory => {
                pipeline::memory(run.target, report);
                Ok(())
            }
            Scenario::Miss => miss::miss(&mut run, report).await,
            Scenario::Reports => reports::reports(&run, report).await,
            Scenario::Figures => figures::figures(&mut run, report).await,
            Scenario::RuleStats => rule_stats::rule_stats(&run, report).await,
            Scenario::Loyalty => loyalty::loyalty(&run, report).await,
            Scenario::Opportunities => opportunities::opportunities(&run, report).await,
            Scenario::CustomerData => customer_data::customer_data(&run, report).await,
            Scenario::WorstMemory => worst::worst_memory(&run, report).await,
        };
        if let Err(e) = result {
            eprintln!("scenario {scenario:?} failed: {e:#}");
            report
                .failures
                .push((format!("{scenario:?}"), format!("{e:#}")));
        }
    }
    Ok(())
}
