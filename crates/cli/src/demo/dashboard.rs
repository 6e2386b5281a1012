//! The demo's end: a report run over the demo's data, so the web dashboard
//! has figures to show, and the dashboard's address.

use std::time::Duration;

use anyhow::Context;
use rapport_proto::v1::{GetReportRequest, ReportRunState};

use super::format::money;
use crate::{client::Clients, suite::Suite};

/// Starts a report run, waits for it, and prints what the dashboard shows
/// and where.
pub(super) async fn show(clients: &mut Clients, suite: &Suite, key: &str) -> anyhow::Result<()> {
    // A run the schedule started while the sample was loading would show
    // part of it: the demo waits that one out and runs its own.
    let run = crate::report::start(clients, "demo-report".into(), Vec::new(), true)
        .await
        .context("starting the demo's report")?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let report = loop {
        let answer = clients
            .reports
            .get_report(GetReportRequest {
                run_id: run.run_id.clone(),
            })
            .await?
            .into_inner();
        let state = answer.run.as_ref().map(|r| (r.state(), r.error.clone()));
        match state {
            Some((ReportRunState::Succeeded, _)) => {
                break answer
                    .report
                    .context("a succeeded run without its report")?;
            }
            Some((ReportRunState::Failed, error)) => {
                anyhow::bail!("the report run failed: {error}")
            }
            _ => {}
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the report run did not finish within 3 minutes"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let total = report.total.unwrap_or_default();
    println!(
        "\nReport: {} customers, revenue {}, customer equity {}, {} months, {} breakdowns",
        total.customers,
        money(total.net_spend.as_ref()),
        money(total.equity.as_ref()),
        report.months.len(),
        report.breakdowns.len()
    );
    println!(
        "\nDashboard: {}\n  sign in with the demo tenant's API key: {key}",
        suite.dashboard_url()
    );
    Ok(())
}
