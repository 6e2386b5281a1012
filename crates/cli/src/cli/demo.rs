//! `rapport demo`: its flags, on the configuration of this machine.

use std::io::IsTerminal as _;

use rapport_kit::config::Config;

use crate::demo::{self, DemoOptions};

#[derive(clap::Args)]
pub(super) struct DemoArgs {
    /// Customers to generate.
    #[arg(long, default_value_t = 3000)]
    customers: usize,
    /// Months of transactions, 1 to 240.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=240))]
    months: u32,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// End after the report instead of serving the dashboard until Ctrl-C
    /// (it ends anyway when not run from a terminal).
    #[arg(long)]
    no_serve: bool,
}

/// Runs the demo; its report is the output, so only warnings go to the log.
pub(super) async fn run(args: DemoArgs, config: Config) -> anyhow::Result<()> {
    rapport_kit::telemetry::init_with(rapport_kit::config::LogFormat::Pretty, "warn");
    demo::run(
        config,
        &DemoOptions {
            customers: args.customers,
            months: args.months,
            seed: args.seed,
            // From a terminal a person is there to open the dashboard;
            // scripts and CI get the report and the end.
            serve: !args.no_serve && std::io::stdin().is_terminal(),
        },
    )
    .await
}
