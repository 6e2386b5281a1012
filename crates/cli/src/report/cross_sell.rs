//! `rapport report cross-sell` and `rapport report affinity`: the
//! cross-sell list (or one customer's likely categories) and the category
//! pairs it comes from, as CSV.

use rapport_proto::v1::{CategoryAffinity, GetCrossSellRequest};

use super::{currency, finish, money, read};
use crate::client::{Clients, answer};

/// The pair columns, after any of the command's own.
const PAIR: [&str; 8] = [
    "category",
    "also_bought",
    "customers",
    "category_customers",
    "also_bought_customers",
    "support",
    "confidence",
    "lift",
];

fn pair_record(p: &CategoryAffinity) -> [String; 8] {
    [
        p.category.clone(),
        p.also_bought.clone(),
        p.customers.to_string(),
        p.category_customers.to_string(),
        p.also_bought_customers.to_string(),
        format!("{:.4}", p.support),
        format!("{:.4}", p.confidence),
        format!("{:.4}", p.lift),
    ]
}

/// The list, by expected value; or, with `customer`, that customer's
/// likely categories (GetCrossSell), most likely first.
pub(super) async fn list(
    clients: &mut Clients,
    run: Option<String>,
    customer: Option<String>,
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    if let Some(customer_id) = customer {
        let r = answer(
            clients
                .reports
                .get_cross_sell(GetCrossSellRequest { customer_id })
                .await,
        )?;
        let mut header = vec!["rank"];
        header.extend(PAIR);
        out.write_record(header)?;
        for (i, p) in r.candidates.iter().enumerate() {
            let mut record = vec![(i + 1).to_string()];
            record.extend(pair_record(p));
            out.write_record(record)?;
        }
        return finish(out);
    }
    let report = read(clients, run).await?;
    let c = currency(&report)?;
    out.write_record([
        "rank",
        "customer_id",
        "display_name",
        "expected_value",
        "order_value",
        "bought_category",
        "recommended_category",
        "confidence",
        "lift",
        "support",
        "purchases",
        "days_since_last_purchase",
        "reason",
    ])?;
    for (i, e) in report.cross_sell.iter().enumerate() {
        out.write_record([
            (i + 1).to_string(),
            e.customer_id.clone(),
            e.display_name.clone(),
            money(&e.value, c),
            money(&e.order_value, c),
            e.bought_category.clone(),
            e.recommended_category.clone(),
            format!("{:.4}", e.confidence),
            format!("{:.4}", e.lift),
            format!("{:.4}", e.support),
            e.purchases.to_string(),
            e.days_since_last_purchase.to_string(),
            e.reason.clone(),
        ])?;
    }
    finish(out)
}

/// The category pairs, by lift.
pub(super) async fn affinity(clients: &mut Clients, run: Option<String>) -> anyhow::Result<()> {
    let report = read(clients, run).await?;
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(PAIR)?;
    for p in &report.category_affinity {
        out.write_record(pair_record(p))?;
    }
    finish(out)
}
