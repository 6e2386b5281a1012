//! `rapport bench`: the benchmark suite. It starts the suite itself, loads a
//! seeded population through the API, runs every scenario beside its
//! baseline in the same run, and prints a table of figures and ratios
//! against the design's targets, also written as JSON.

pub mod args;
mod batch;
pub mod calls;
mod customer_data;
mod feed;
mod figures;
mod freshness;
pub mod generate;
mod ingest;
mod json;
pub mod load;
mod loyalty;
mod miss;
mod opportunities;
pub mod options;
pub mod outbox;
mod pipeline;
mod pooler;
pub mod population;
mod probe;
pub mod procs;
mod reads;
pub mod report;
mod reports;
mod rule_stats;
mod run;
pub mod scenario;
pub mod settings;
mod store;
mod table;
pub mod target;
pub mod worst;

use anyhow::Context;

pub use options::Scenario;
pub use options::{BenchOptions, StoreKind, Topology};
pub use settings::{Settings, Size};

use report::Report;
use target::{Target, TargetSpec};

/// Runs the benchmark and returns its report (also printed and written).
/// No threshold is enforced: the figures are for people and for comparing
/// runs, and machines running it are often shared and noisy.
pub async fn run(opts: BenchOptions) -> anyhow::Result<Report> {
    let s = &opts.settings;
    let mut report = Report::default();
    let meta = serde_json::json!({
        "store": opts.store,
        "topology": opts.topology,
        "settings": s,
        "started_at": chrono::Utc::now().to_rfc3339(),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "rapport_version": env!("CARGO_PKG_VERSION"),
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
    });
    if let serde_json::Value::Object(m) = meta {
        report.meta = m;
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: a debug build of rapport; figures of a release build are the ones to compare"
        );
    }
    let spec = TargetSpec {
        store: opts.store,
        topology: opts.topology,
        rapport_bin: opts.rapport_bin.clone(),
        run_dir: opts.run_dir.clone(),
        postgres_admin_url: opts.postgres_admin_url.clone(),
        redis_url: opts.redis_url.clone(),
        pgbouncer: opts.pgbouncer.clone(),
        opportunities: opts.scenarios.is_empty()
            || opts.scenarios.contains(&Scenario::Opportunities),
        customers: opts.settings.population.customers,
    };
    eprintln!(
        "starting the suite ({:?} store, {:?} topology) in {}",
        opts.store,
        opts.topology,
        opts.run_dir.display()
    );
    let mut target = Target::start(spec).await?;
    let outcome = scenario::run_all(&mut target, s, &opts.scenarios, &mut report).await;
    let finished = target.finish(opts.keep).await;
    if let Err(e) = outcome {
        report.failures.push(("run".to_owned(), format!("{e:#}")));
    }
    finished?;
    println!("{}", table::render(&report));
    std::fs::write(&opts.json, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", opts.json.display()))?;
    println!("\nresults written to {}", opts.json.display());
    Ok(report)
}
