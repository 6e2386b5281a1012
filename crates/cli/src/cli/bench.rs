//! `rapport bench`: the benchmark suite, stopped cleanly on Ctrl-C.

use crate::bench::args::BenchArgs;

/// Runs the benchmark `args` ask for; its report is the output, so only
/// warnings go to the log.
pub(super) async fn run(args: BenchArgs) -> anyhow::Result<()> {
    rapport_kit::telemetry::init_with(rapport_kit::config::LogFormat::Pretty, "warn");
    // Ctrl-C drops the run, and with it the processes it started
    // (they would otherwise outlive it); the run's database stays.
    tokio::select! {
        result = crate::bench::run(args.into_options()?) => result.map(|_| ()),
        _ = tokio::signal::ctrl_c() => {
            anyhow::bail!("interrupted: the suite was stopped; the run's database (rapport_bench_…) is left for you to drop")
        }
    }
}
