//! The cross-sell side of a run (each page's category rows, read by one
//! range of the primary key, and the list's offers) and GetCrossSell, which
//! answers for one customer from the latest report's affinity and that
//! customer's own rows.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rapport_kit::{
    ApiError,
    domain::{CurrencyCode, chrono_to_timestamp},
};
use rapport_proto::v1::{CustomerCategory, GetCrossSellResponse, Money};
use uuid::Uuid;

use super::{
    Reports,
    affinity::{Affinity, CrossSell, CrossSellFacts, to_proto},
};
use crate::{
    error::{Error, storage},
    repo::{CategoryRow, StoredScore},
    value::histories::major,
};

impl Reports {
    /// The categories bought by the customers of one page of scores (in
    /// customer order): one range of the primary key.
    pub(super) async fn categories(
        &self,
        tenant: Uuid,
        page: &[StoredScore],
    ) -> Result<Vec<CategoryRow>, Error> {
        let (Some(first), Some(last)) = (page.first(), page.last()) else {
            return Ok(Vec::new());
        };
        (self.scores.repo)
            .categories_between(tenant, first.row.customer_id, last.row.customer_id)
            .await
            .map_err(storage("customer category"))
    }

    /// Offers each customer of a page of scores to the cross-sell list,
    /// with the categories they bought.
    pub(super) async fn offer_cross_sell(
        &self,
        tenant: Uuid,
        page: &[StoredScore],
        affinity: &Affinity,
        list: &mut CrossSell,
        c: CurrencyCode,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let rows = self.categories(tenant, page).await?;
        let scores: HashMap<Uuid, &StoredScore> =
            page.iter().map(|s| (s.row.customer_id, s)).collect();
        for (customer, bought) in by_customer(&rows) {
            let Some(r) = scores.get(&customer).map(|s| &s.row) else {
                continue;
            };
            if r.purchase_count <= 0 {
                continue;
            }
            let facts = CrossSellFacts {
                customer_id: customer,
                order_value: major(r.purchase_total_minor, c) / r.purchase_count as f64,
                purchases: r.purchase_count as u64,
                days_since_last_purchase: r
                    .last_purchase_at
                    .map_or(0, |t| (now - t).num_days().max(0) as u32),
            };
            list.offer(&facts, &bought.into_iter().collect(), affinity);
        }
        Ok(())
    }

    /// GetCrossSell: the customer's categories and the ones they have not
    /// bought, from the tenant's latest report.
    pub async fn cross_sell(
        &self,
        tenant: Uuid,
        customer: Uuid,
    ) -> Result<GetCrossSellResponse, ApiError> {
        let (run, report) = self.get(tenant, None).await?;
        let report = report.unwrap_or_default();
        let rows = (self.scores.repo)
            .categories_of(tenant, customer)
            .await
            .map_err(storage("customer category"))?;
        let affinity = Affinity::from_proto(report.category_buyers, &report.category_affinity);
        let bought: HashSet<&str> = (rows.iter())
            .filter(|r| r.purchases > 0)
            .map(|r| r.category.as_str())
            .collect();
        let currency = report.currency_code.clone();
        Ok(GetCrossSellResponse {
            run_id: run.run_id.to_string(),
            as_of: report.as_of.or(run.finished_at.map(chrono_to_timestamp)),
            categories: (rows.iter())
                .map(|r| CustomerCategory {
                    category: r.category.clone(),
                    purchases: r.purchases.max(0) as u64,
                    net_spend: Some(Money {
                        currency_code: currency.clone(),
                        minor_units: r.net_minor,
                    }),
                })
                .collect(),
            candidates: to_proto(affinity.candidates(&bought)),
        })
    }
}

/// Rows in customer order, grouped: each customer and the categories they
/// bought.
pub(super) fn by_customer(rows: &[CategoryRow]) -> Vec<(Uuid, Vec<&str>)> {
    let mut out: Vec<(Uuid, Vec<&str>)> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some((c, bought)) if *c == r.customer_id => bought.push(&r.category),
            _ => out.push((r.customer_id, vec![&r.category])),
        }
    }
    out
}
