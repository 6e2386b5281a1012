//! `rapport verify scores`: its flags, and the exit status that says whether
//! every checked score matched its transactions.

use clap::Subcommand;

use crate::{
    client::Clients,
    verify::{self, Customers},
};

#[derive(Subcommand)]
pub(super) enum VerifyCommand {
    /// Recomputes each customer's purchase and refund counts and totals, net
    /// spend and first and last purchase from the transactions ingestion
    /// holds, and prints every customer whose score differs, with the
    /// fields. Exits non-zero when any differs. Run it once imports have
    /// been scored (scoring follows ingestion within seconds).
    Scores {
        /// A customer to check (Rapport customer id); repeat for more.
        /// Without it, every customer.
        #[arg(long = "customer", conflicts_with = "sample")]
        customers: Vec<String>,
        /// Check this many customers picked at random instead of all.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        sample: Option<u32>,
    },
}

/// Runs the check and prints its summary; an error when any score differs.
pub(super) async fn run(command: VerifyCommand, mut clients: Clients) -> anyhow::Result<()> {
    let VerifyCommand::Scores { customers, sample } = command;
    let which = match (customers.is_empty(), sample) {
        (false, _) => Customers::Ids(customers),
        (true, Some(n)) => Customers::Sample(n as usize),
        (true, None) => Customers::All,
    };
    let report = verify::scores(&mut clients, which).await?;
    println!(
        "{} customers checked, {} differ",
        report.checked, report.differing
    );
    anyhow::ensure!(
        report.differing == 0,
        "{} of {} scores differ from their transactions",
        report.differing,
        report.checked
    );
    Ok(())
}
