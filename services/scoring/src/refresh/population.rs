//! Population figures: RFM quintile breakpoints over every customer who
//! bought, and tier cut-offs over the tier basis, both as of the refresh;
//! in a tenant of more than [`SAMPLE_LIMIT`] buyers, over a fixed sample of
//! them (see [`crate::value::sample`]).

use chrono::{DateTime, Utc};
use rapport_kit::domain::CurrencyCode;
use rapport_science::{Breakpoints, RfmValues, TierThresholds};
use uuid::Uuid;

use super::Refresher;
use crate::{
    error::{Error, storage},
    exact_float::Exact,
    repo::models::{PopulationRow, StoredTiers, TierCutoff},
    scores::assemble,
    value::{
        blocking,
        measures::{measures, rfm_values},
        sample::{SAMPLE_LIMIT, Sample},
        tenant_state::basis_name,
    },
};

/// Scores read per page while scanning a tenant.
pub const PAGE: u32 = 1_000;

impl Refresher {
    /// Recomputes the tenant's breakpoints and tier cut-offs from every
    /// score, with the latest fit and settings, and makes them current.
    pub async fn refresh_population(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let state = self.fitter.states.reload(tenant).await?;
        let basis = state.settings.tier_basis;
        // Each customer's RFM values and tier value, for a sample of at most
        // SAMPLE_LIMIT customers: memory stays bounded whatever the tenant.
        let mut sample: Sample<(RfmValues, Option<f64>)> = Sample::new(SAMPLE_LIMIT);
        let mut after = None;
        loop {
            let page = self.scores.page(tenant, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.row.customer_id);
            let state = state.clone();
            let figures = blocking(move || {
                let mut out = Vec::with_capacity(page.len());
                for stored in &page {
                    let mut s = assemble::stored(stored);
                    assemble::finish(&mut s, now);
                    if s.purchase_count == 0 {
                        continue;
                    }
                    let net = s.net_spend.as_ref().map_or(0, |m| m.minor_units);
                    let rfm = rfm_values(s.recency_days, s.purchase_count, net, currency);
                    let value = measures(&s, &state, currency, now).tier_value(basis);
                    out.push((stored.row.customer_id, (rfm, value)));
                }
                out
            })
            .await?;
            for (customer, f) in figures {
                sample.offer(customer, f);
            }
        }
        let customers = sample.seen();
        let sampled = sample.into_items();
        let rfm: Vec<RfmValues> = sampled.iter().map(|(r, _)| *r).collect();
        let values: Vec<f64> = sampled.iter().filter_map(|(_, v)| *v).collect();
        drop(sampled);
        let breakpoints = Breakpoints::from_population(&rfm)
            .ok()
            .map(|b| [b.recency(), b.frequency(), b.monetary()].map(|m| m.map(Exact)));
        let spec: Vec<(&str, f64)> = state
            .settings
            .tiers
            .iter()
            .map(|t| (t.name.as_str(), t.min_percentile / 100.0))
            .collect();
        let tiers = match TierThresholds::from_population(&spec, &values) {
            Ok(t) => StoredTiers {
                basis: basis_name(basis).to_owned(),
                tiers: t
                    .tiers()
                    .iter()
                    .map(|x| TierCutoff {
                        name: x.name.clone(),
                        percentile: x.percentile,
                        cutoff: x.cutoff,
                    })
                    .collect(),
                quantiles: t
                    .quantiles()
                    .iter()
                    .map(|q| (Exact(q.fraction), Exact(q.value)))
                    .collect(),
            },
            // No customer has a value on the basis yet (no fit, no purchase).
            Err(_) => StoredTiers::default(),
        };
        let row = PopulationRow {
            computed_at: Some(now),
            customers: i64::try_from(customers).unwrap_or(i64::MAX),
            breakpoints,
            tiers,
            preferred_model: None,
            last_error: None,
        };
        self.fitter
            .models
            .put_population(tenant, &row)
            .await
            .map_err(storage("model"))?;
        self.fitter.states.reload(tenant).await?;
        tracing::info!(customers, sampled = rfm.len(), "population refreshed");
        Ok(())
    }
}
