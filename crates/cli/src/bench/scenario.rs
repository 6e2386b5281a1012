//! The scenarios and the order they run in, each beside its baseline, on a
//! population loaded first.

use std::sync::Arc;

use serde::Serialize;

use super::{
    batch, freshness, ingest, miss, pipeline, population, reads,
    report::{self, Report},
    settings::Settings,
    target::Target,
};

/// Scenarios, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// GetScore on a cache hit against Health/Check: peak and half-peak latency.
    Hit,
    /// BatchGetScores(100) against GetScore and 100 GetScore calls.
    Batch,
    /// Ingest against COPY (or SQLite bulk INSERT).
    Ingest,
    /// Scoring's ApplyChanges throughput.
    Apply,
    /// Ingest at a sustained rate; time until the score reflects it.
    Freshness,
    /// FitModels over the whole population.
    Rescore,
    /// GetScore on a cache miss against a primary-key SELECT (restarts the suite).
    Miss,
    /// Resident memory of each process after the load.
    Memory,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 8] = [
        // First: the models fitted, as in production, before anything reads
        // scores (and before live traffic makes every customer look
        // active, which leaves the models little to fit); the background
        // refresh is then not due again during the run.
        Scenario::Rescore,
        Scenario::Hit,
        Scenario::Batch,
        Scenario::Ingest,
        Scenario::Apply,
        Scenario::Freshness,
        Scenario::Memory,
        Scenario::Miss,
    ];
}

/// What every scenario runs with: the started suite, the customers of the loaded
/// population and the settings.
pub struct Run<'a> {
    /// The suite under measurement.
    pub target: &'a mut Target,
    /// The loaded customers' ids.
    pub ids: Arc<Vec<String>>,
    /// The benchmark's settings.
    pub settings: &'a Settings,
}

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
    for scenario in Scenario::ALL.into_iter().filter(|sc| wanted(*sc)) {
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
