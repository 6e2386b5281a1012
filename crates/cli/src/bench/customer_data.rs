//! GDPR export and erasure: ExportCustomer and EraseCustomer of loaded
//! customers (each a profile, identities and purchases in every service,
//! and a score), one call at a time, beside GetCustomer of the same
//! customers. Runs last of the default set: the customers it erases are
//! gone for anything after it.

use std::time::Instant;

use anyhow::Context;
use rapport_proto::v1::{EraseCustomerRequest, ExportCustomerRequest, GetCustomerRequest};

use super::{
    load::{self, Latency},
    report::{Report, Target as Goal},
    run::Run,
};

/// Times `call` once per customer of `ids`, in turn.
async fn timed<F, Fut>(ids: &[String], mut call: F) -> anyhow::Result<Latency>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut h = load::histogram();
    for id in ids {
        let started = Instant::now();
        call(id.clone()).await?;
        let us = (started.elapsed().as_micros() as u64).clamp(1, 600_000_000);
        h.record(us).ok();
    }
    Ok(Latency::of(&h))
}

/// ExportCustomer, then EraseCustomer, of the last customers loaded, beside
/// GetCustomer of the same ones.
pub async fn customer_data(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let clients = run.target.clients()?;
    let n = (run.settings.sequential_calls / 20).clamp(5, 200) as usize;
    let ids: Vec<String> = run.ids.iter().rev().take(n).cloned().collect();
    let get = timed(&ids, |id| {
        let mut p = clients.profiles.clone();
        async move {
            p.get_customer(GetCustomerRequest { customer_id: id })
                .await
                .context("GetCustomer")?;
            Ok(())
        }
    })
    .await?;
    let export = timed(&ids, |id| {
        let mut p = clients.profiles.clone();
        async move {
            let doc = p
                .export_customer(ExportCustomerRequest { customer_id: id })
                .await
                .context("ExportCustomer")?
                .into_inner();
            anyhow::ensure!(!doc.json.is_empty(), "an empty export");
            Ok(())
        }
    })
    .await?;
    let erase = timed(&ids, |id| {
        let mut p = clients.profiles.clone();
        async move {
            let r = p
                .erase_customer(EraseCustomerRequest { customer_id: id })
                .await
                .context("EraseCustomer")?
                .into_inner();
            anyhow::ensure!(r.erased, "the customer was not erased: {r:?}");
            Ok(())
        }
    })
    .await?;
    let condition = format!("{n} customers, one call at a time");
    for (measure, value) in [
        ("ExportCustomer: p99", export.p99_us),
        ("EraseCustomer: p99", erase.p99_us),
    ] {
        report.ratio(
            measure,
            condition.clone(),
            value as f64 / 1000.0,
            "GetCustomer p99",
            get.p99_us as f64 / 1000.0,
            "ms",
            Goal::None,
        );
    }
    for (measure, value) in [
        ("ExportCustomer: p50", export.p50_us),
        ("EraseCustomer: p50", erase.p50_us),
    ] {
        report.ratio(
            measure,
            condition.clone(),
            value as f64 / 1000.0,
            "GetCustomer p50",
            get.p50_us as f64 / 1000.0,
            "ms",
            Goal::None,
        );
    }
    report.add_json(
        "customer_data",
        serde_json::json!({ "customers": n, "get": get, "export": export, "erase": erase }),
    );
    Ok(())
}
