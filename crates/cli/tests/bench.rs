//! `rapport bench` at its tiny size, as CI runs it to keep it working: on
//! the embedded store with all services in one process, and on Postgres and
//! Redis with each service in its own process. No figure is judged here
//! (CI machines are shared and noisy; the figures belong to benchmark runs):
//! what is checked is that every scenario ran against its baseline and that
//! the JSON a user compares runs with holds the whole table.

use std::process::Command;

use rapport_kit::testing::run_ok;

const BIN: &str = env!("CARGO_BIN_EXE_rapport");

fn bench(store: &str, topology: &str) -> serde_json::Value {
    bench_with(store, topology, &[])
}

fn bench_with(store: &str, topology: &str, extra: &[&str]) -> serde_json::Value {
    bench_env(store, topology, extra, &[])
}

/// The tiny bench with `env` given to it (and so to the suite it starts).
fn bench_env(
    store: &str,
    topology: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> serde_json::Value {
    let dir = rapport_kit::testing::fresh_dir();
    let json = dir.join("results.json");
    let stdout = run_ok(
        Command::new(BIN)
            .args([
                "bench",
                "--size",
                "tiny",
                "--store",
                store,
                "--topology",
                topology,
            ])
            .arg("--out")
            .arg(&dir)
            .arg("--json")
            .arg(&json)
            .args(["--postgres", &rapport_kit::testing::admin_url()])
            .args(["--redis", &rapport_kit::testing::redis_url()])
            .args(extra)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn"),
    );
    assert!(
        stdout.contains("baseline"),
        "the table is printed: {stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("results written")).expect("json");
    let _ = std::fs::remove_dir_all(&dir);
    report
}

/// The measures of a report, by name.
fn measures(report: &serde_json::Value) -> Vec<String> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["measure"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn check(report: &serde_json::Value, store: &str, processes: usize) {
    assert_eq!(
        report["failures"].as_array().map(Vec::len),
        Some(0),
        "no scenario failed: {}",
        report["failures"]
    );
    assert_eq!(report["meta"]["store"], store);
    let names = measures(report);
    for expected in [
        "GetScore hit: peak req/s",
        "GetScore hit: p99 at half peak",
        "BatchGetScores(100): p99",
        "GetScore miss: p99",
        "Ingest, batches of 1000",
        "Scoring apply throughput",
        "Freshness: accepted to readable p99",
        "Full rescoring (FitModels)",
        "ExportCustomer: p99",
        "EraseCustomer: p99",
        "Report run: whole tenant",
        "GetReport (stored): p99",
        "SummarizeScores: stored against in the request, p50",
        "SummarizeScores (stored): p99",
        "GetCustomerEquity: stored against in the request, p50",
        "Figures pass: the worker's computation over the tenant",
        "GetRuleStats: against an exact SQL count, p50",
        "GetRuleStats: p99",
        "GetRuleStats: customers matched against the exact count",
        "ApplyChanges with points earning",
        "RedeemPoints: p99",
        "GetPointsBalance: p99",
        "Opportunities refit: accepted to stored",
        "GetPipeline (by tier): p99",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let rss = names
        .iter()
        .filter(|n| n.starts_with("RSS after load"))
        .count();
    assert_eq!(rss, processes, "one memory figure per process");
    for row in report["rows"].as_array().unwrap() {
        let value = row["value"].as_f64().expect("a figure");
        assert!(value.is_finite() && value >= 0.0, "{row}");
        // Every compared figure has its baseline from the same run.
        if row["baseline"].is_string() {
            assert!(row["baseline_value"].as_f64().unwrap_or(0.0) > 0.0, "{row}");
            assert!(row["ratio"].as_f64().is_some(), "{row}");
        }
    }
    // The distributions behind the table are kept for comparing runs.
    for key in [
        "get_score_hit.peak",
        "health_check.half_peak",
        "freshness",
        "customer_data",
        "reports",
        "figures",
        "rule_stats",
        "loyalty",
        "opportunities",
    ] {
        assert!(report["raw"].get(key).is_some(), "{key} missing");
    }
}

/// Whether the report has the score change feed's figures.
fn has_feed(report: &serde_json::Value) -> bool {
    measures(report)
        .iter()
        .any(|n| n == "Feed: score written to watcher p99")
}

/// With the feed switched on, the freshness scenario times a watcher too.
#[test]
fn tiny_bench_on_the_embedded_store_in_one_process() {
    let report = bench_env("embedded", "one", &[], &[("RAPPORT_FEED__ENABLED", "true")]);
    check(&report, "embedded", 1);
    assert!(has_feed(&report), "{:?}", measures(&report));
}

/// The default deployment: the feed off, and no feed figures.
#[test]
fn tiny_bench_on_postgres_and_redis_as_four_processes() {
    let report = bench("postgres", "split");
    check(&report, "postgres", 4);
    assert!(!has_feed(&report), "{:?}", measures(&report));
}

#[test]
fn tiny_worst_memory_reports_each_service_against_its_limit() {
    let report = bench_with("postgres", "split", &["--scenarios", "worst-memory"]);
    assert_eq!(
        report["failures"].as_array().map(Vec::len),
        Some(0),
        "the scenario ran: {}",
        report["failures"]
    );
    let rows = report["rows"].as_array().expect("rows");
    for service in ["profiles", "ingestion", "scoring", "notifications"] {
        let measure = format!("Peak RSS under worst input: {service}");
        let row = rows
            .iter()
            .find(|r| r["measure"] == measure.as_str())
            .unwrap_or_else(|| panic!("{measure} missing: {rows:?}"));
        let mib = row["value"].as_f64().expect("a figure");
        // A process serving at all holds more than a few MiB.
        assert!(mib > 4.0, "{row}");
        assert_eq!(row["target"]["kind"], "value_at_most", "{row}");
        assert!(row["met"].is_boolean(), "{row}");
    }
    // The default scenarios did not run.
    assert!(
        !rows
            .iter()
            .any(|r| r["measure"] == "GetScore hit: peak req/s"),
        "only the scenario asked for"
    );
}
