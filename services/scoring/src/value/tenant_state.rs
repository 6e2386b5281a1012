//! What read-time enrichment needs per tenant: the settings, the latest fit
//! and the population figures, with the fingerprint that tells responses
//! computed from the same state apart from others.

use chrono::{DateTime, Utc};
use rapport_science::{Breakpoints, GammaGamma, ShrunkMean, TierThresholds, tier};

use super::models::{GAMMA_GAMMA, Purchase, PurchaseKind, spend_from_parameters};
use crate::{
    calendar::TimeUnit,
    config::{Settings, TierBasis},
    repo::models::{PopulationRow, StoredFit, StoredSettings},
};

/// The models of the latest fit.
#[derive(Debug, Clone)]
pub struct LoadedFit {
    /// Its version.
    pub version: i64,
    /// The unit its parameters are in.
    pub unit: TimeUnit,
    /// The selected purchase model.
    pub purchase: Purchase,
    /// The spend model; `None` when the data did not allow fitting it.
    pub spend: Option<GammaGamma>,
    /// Without a spend model: why, and the shrunk mean used instead (`None`
    /// in fits stored before it was kept, which use own averages).
    pub no_spend: Option<NoSpend>,
}

/// Why a fit has no spend model, and the shrunk mean that replaces it.
#[derive(Debug, Clone)]
pub struct NoSpend {
    /// Why the spend model was not fitted.
    pub reason: String,
    /// The population mean and credibility weight; `None` when there was no
    /// repeat customer to estimate them from.
    pub shrunk: Option<ShrunkMean>,
}

impl LoadedFit {
    /// The selected purchase model and the spend model of a stored fit;
    /// `None` if the purchase model is missing or its parameters are unusable.
    pub fn from_stored(fit: &StoredFit) -> Option<LoadedFit> {
        let selected = fit.models.iter().find(|m| m.selected)?;
        let kind = PurchaseKind::parse(&selected.model)?;
        let spend = fit.models.iter().find(|m| m.model == GAMMA_GAMMA);
        let spend = spend.and_then(|s| spend_from_parameters(&s.parameters));
        let no_spend = match (&spend, &fit.spend_unfitted) {
            (None, Some(u)) => Some(NoSpend {
                reason: u.reason.clone(),
                shrunk: u.fallback.as_ref().map(|f| ShrunkMean {
                    population_mean: f.population_mean,
                    k: f.k,
                }),
            }),
            _ => None,
        };
        Some(LoadedFit {
            version: fit.version,
            unit: fit.time_unit,
            purchase: Purchase::from_parameters(kind, &selected.parameters)?,
            spend,
            no_spend,
        })
    }
}

/// One tenant's state.
#[derive(Debug, Clone)]
pub struct TenantState {
    /// The same for every replica that loaded the same settings, fit and
    /// population: read-time measures cached under one fingerprint are
    /// valid for any reader with it.
    pub fingerprint: u64,
    /// Settings in force.
    pub settings: Settings,
    /// The latest fit, if any.
    pub fit: Option<LoadedFit>,
    /// RFM breakpoints, once computed.
    pub breakpoints: Option<Breakpoints>,
    /// Tier cut-offs, when computed on the basis the settings name.
    pub tiers: Option<TierThresholds>,
    /// When the population figures were computed.
    pub population_at: Option<DateTime<Utc>>,
}

impl TenantState {
    /// Builds the state from what is stored.
    pub fn new(settings: StoredSettings, fit: Option<&StoredFit>, pop: &PopulationRow) -> Self {
        let breakpoints = pop.breakpoints.and_then(|[r, f, m]| {
            Breakpoints::new(r.map(|x| x.0), f.map(|x| x.0), m.map(|x| x.0)).ok()
        });
        let tiers = (pop.tiers.basis == basis_name(settings.settings.tier_basis))
            .then(|| {
                let t = &pop.tiers;
                TierThresholds::from_stored(
                    t.tiers
                        .iter()
                        .map(|c| tier::Tier {
                            name: c.name.clone(),
                            percentile: c.percentile,
                            cutoff: c.cutoff,
                        })
                        .collect(),
                    t.quantiles
                        .iter()
                        .map(|&(fraction, value)| tier::Quantile {
                            fraction: fraction.0,
                            value: value.0,
                        })
                        .collect(),
                )
                .ok()
            })
            .flatten();
        let fingerprint = fingerprint(&settings, fit, pop);
        TenantState {
            fingerprint,
            settings: settings.settings,
            fit: fit.and_then(LoadedFit::from_stored),
            breakpoints,
            tiers,
            population_at: pop.breakpoints.and(pop.computed_at),
        }
    }
}

/// Bumped whenever read-time enrichment computes anything differently, so
/// measures a previous release cached are computed again.
const ENRICHMENT_SCHEME: &str = "enrich-v2";

/// What the tenant's read-time measures depend on, hashed: the settings'
/// version, the fit, and the population figures.
fn fingerprint(settings: &StoredSettings, fit: Option<&StoredFit>, pop: &PopulationRow) -> u64 {
    use sha2::Digest;
    let text = format!(
        "{ENRICHMENT_SCHEME}|{}|{:?}|{:?}|{:?}|{}|{}",
        settings.version,
        settings.updated_at.map(|t| t.timestamp_micros()),
        fit.map(|f| (f.version, f.fitted_at.timestamp_micros())),
        pop.computed_at.map(|t| t.timestamp_micros()),
        pop.customers,
        pop.tiers.basis,
    );
    let digest = sha2::Sha256::digest(text.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
}

/// The stored name of a tier basis.
pub fn basis_name(basis: TierBasis) -> &'static str {
    match basis {
        TierBasis::LifetimeValue => "lifetime_value",
        TierBasis::MonthlyProfit => "monthly_profit",
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::repo::models::{FitRow, Parameter, SpendFallback, SpendUnfitted};

    fn fit(spend_unfitted: Option<SpendUnfitted>) -> StoredFit {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let parameters = [("r", 0.25), ("alpha", 4.0), ("a", 0.8), ("b", 2.5)]
            .map(|(name, value)| Parameter {
                name: name.into(),
                value,
            })
            .to_vec();
        StoredFit {
            version: 3,
            fitted_at: at,
            observation_end: at,
            time_unit: TimeUnit::Day,
            fingerprint: "f".into(),
            models: vec![FitRow {
                model: "bg_nbd".into(),
                parameters,
                standard_errors: None,
                log_likelihood: -10.0,
                iterations: 20,
                converged: true,
                customers: 100,
                selected: true,
            }],
            spend_unfitted,
        }
    }

    #[test]
    fn a_fit_without_a_spend_model_loads_its_fallback_and_an_old_one_loads_none() {
        // Stored before the fallback was kept: own averages (no `no_spend`).
        let old = LoadedFit::from_stored(&fit(None)).unwrap();
        assert!(old.spend.is_none() && old.no_spend.is_none());
        let new = LoadedFit::from_stored(&fit(Some(SpendUnfitted {
            reason: "Gamma-Gamma cannot be fitted: no customers to fit".into(),
            fallback: Some(SpendFallback {
                population_mean: 50.0,
                k: 0.5,
                customers: 8,
                k_note: None,
            }),
        })))
        .unwrap();
        let no = new.no_spend.unwrap();
        assert!(no.reason.contains("no customers"));
        assert_eq!(
            no.shrunk,
            Some(ShrunkMean {
                population_mean: 50.0,
                k: 0.5
            })
        );
    }
}
