//! Customer equity: every customer's lifetime value summed for the tenant,
//! per RFM segment and per tier, with share of wallet per group. One
//! computation, a page of scores at a time, for both the request path (a
//! small tenant) and the stored figures (see [`crate::figures`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_kit::{
    domain::{CurrencyCode, chrono_to_timestamp},
    tenants::Tenant,
};
use rapport_proto::v1::{EquityGroup, GetCustomerEquityResponse, Money};
use rapport_science::{WalletEntry, group_share_of_wallet};

use super::{Scores, assemble};
use crate::{
    error::Error,
    value::{blocking, histories::minor, measures::measures},
};

/// Scores read per page.
const PAGE: u32 = 1_000;
/// Customers without an RFM segment (no purchase) or a tier.
const NONE: &str = "none";

/// What one customer adds to the groups it falls in.
struct Share {
    segment: &'static str,
    tier: String,
    lifetime: f64,
    wallet: Option<(f64, f64)>,
}

#[derive(Default)]
struct Group {
    customers: u64,
    lifetime: f64,
    wallets: Vec<WalletEntry>,
}

impl Group {
    fn add(&mut self, s: &Share) {
        self.customers += 1;
        self.lifetime += s.lifetime;
        if let Some((spend, estimate)) = s.wallet {
            self.wallets.push(WalletEntry {
                spend,
                estimated_total: Some(estimate),
            });
        }
    }

    fn to_proto(&self, name: &str, c: CurrencyCode) -> EquityGroup {
        let money = |major: f64| {
            Some(Money {
                currency_code: c.as_str().to_owned(),
                minor_units: minor(major, c),
            })
        };
        let share = group_share_of_wallet(self.wallets.iter().copied());
        EquityGroup {
            name: name.to_owned(),
            customers: self.customers,
            lifetime_value: money(self.lifetime),
            wallet_customers: share.counted as u64,
            wallet_spend: money(share.spend),
            wallet_estimate: money(share.estimated_total),
            share_of_wallet: share.share,
        }
    }
}

impl Scores {
    /// GetCustomerEquity as of `now`: reads every score of the tenant, a
    /// page at a time (each its own query on the reader), O(customers).
    pub async fn equity(
        &self,
        tenant: &Tenant,
        now: DateTime<Utc>,
    ) -> Result<GetCustomerEquityResponse, Error> {
        let c = tenant.currency;
        let tenant = tenant.id;
        let state = self.states.get(tenant).await?;
        let Some(fit) = &state.fit else {
            return Err(Error::NotFitted);
        };
        let mut overall = Group::default();
        let mut segments: BTreeMap<String, Group> = BTreeMap::new();
        let mut tiers: BTreeMap<String, Group> = BTreeMap::new();
        let mut after = None;
        loop {
            let page = self.page(tenant, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.row.customer_id);
            let state = state.clone();
            // The models run for every customer: off the async workers.
            let shares = blocking(move || {
                page.iter()
                    .map(|stored| {
                        let mut s = assemble::stored(stored);
                        assemble::finish(&mut s, now);
                        let m = measures(&s, &state, c, now);
                        Share {
                            segment: m.rfm.as_ref().map_or(NONE, |r| r.segment.name()),
                            tier: m.tier.map_or_else(|| NONE.to_owned(), |t| t.tier),
                            lifetime: m.prediction.as_ref().map_or(0.0, |p| p.lifetime.total),
                            wallet: m.wallet,
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
            for share in &shares {
                overall.add(share);
                segments
                    .entry(share.segment.to_owned())
                    .or_default()
                    .add(share);
                tiers.entry(share.tier.clone()).or_default().add(share);
            }
        }
        let total = overall.to_proto("all", c);
        Ok(GetCustomerEquityResponse {
            customers: overall.customers,
            total: total.lifetime_value.clone(),
            segments: segments.iter().map(|(n, g)| g.to_proto(n, c)).collect(),
            tiers: tiers.iter().map(|(n, g)| g.to_proto(n, c)).collect(),
            model: fit.purchase.kind().to_proto() as i32,
            model_version: fit.version.max(0) as u64,
            overall: Some(total),
            as_of: Some(chrono_to_timestamp(now)),
            stored: false,
        })
    }
}
