//! What read-time enrichment needs per tenant — settings, the latest fit and
//! the population figures — held in process, so that enriching a score is
//! arithmetic only. An entry older than [`MAX_AGE`] is served while a reload
//! runs in the background (other replicas' fits show up within that); this
//! replica's own writes replace the entry at once.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use rapport_science::{Breakpoints, GammaGamma, TierThresholds, tier};
use uuid::Uuid;

use crate::{
    models::{GAMMA_GAMMA, Purchase, PurchaseKind, spend_from_parameters},
    periods::TimeUnit,
    repo::models::{ModelRepo, PopulationRow, StoredFit, StoredSettings},
    settings::{Settings, TierBasis},
};

/// How long a loaded state is served before it is reloaded.
pub const MAX_AGE: Duration = Duration::from_secs(30);

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
}

impl LoadedFit {
    /// The selected purchase model and the spend model of a stored fit;
    /// `None` if the purchase model is missing or its parameters are unusable.
    pub fn from_stored(fit: &StoredFit) -> Option<LoadedFit> {
        let selected = fit.models.iter().find(|m| m.selected)?;
        let kind = PurchaseKind::parse(&selected.model)?;
        let spend = fit.models.iter().find(|m| m.model == GAMMA_GAMMA);
        Some(LoadedFit {
            version: fit.version,
            unit: fit.time_unit,
            purchase: Purchase::from_parameters(kind, &selected.parameters)?,
            spend: spend.and_then(|s| spend_from_parameters(&s.parameters)),
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
const ENRICHMENT_SCHEME: &str = "enrich-v1";

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

struct Entry {
    state: Arc<TenantState>,
    loaded: Instant,
    reloading: Arc<AtomicBool>,
}

/// Every tenant's state in this process.
pub struct TenantStates {
    repo: ModelRepo,
    entries: RwLock<HashMap<Uuid, Entry>>,
}

impl TenantStates {
    /// States loaded through `repo`.
    pub fn new(repo: ModelRepo) -> Arc<TenantStates> {
        Arc::new(TenantStates {
            repo,
            entries: RwLock::default(),
        })
    }

    /// The tenant's state: from memory when loaded, reloaded in the
    /// background when old, loaded now when absent.
    pub async fn get(self: &Arc<Self>, tenant: Uuid) -> Result<Arc<TenantState>, sqlx::Error> {
        let found = {
            let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
            entries
                .get(&tenant)
                .map(|e| (e.state.clone(), e.loaded.elapsed(), e.reloading.clone()))
        };
        match found {
            Some((state, age, _)) if age < MAX_AGE => Ok(state),
            Some((state, _, reloading)) => {
                if !reloading.swap(true, Ordering::AcqRel) {
                    let this = self.clone();
                    tokio::spawn(async move {
                        if let Err(e) = this.reload(tenant).await {
                            tracing::warn!(error = %e, "tenant scoring state reload failed");
                        }
                        reloading.store(false, Ordering::Release);
                    });
                }
                Ok(state)
            }
            None => self.reload(tenant).await,
        }
    }

    /// Loads the tenant's state now and keeps it.
    pub async fn reload(&self, tenant: Uuid) -> Result<Arc<TenantState>, sqlx::Error> {
        let settings = self.repo.settings(tenant).await?;
        let fit = self.repo.fit(tenant, None).await?;
        let population = self.repo.population(tenant).await?;
        let state = Arc::new(TenantState::new(settings, fit.as_ref(), &population));
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let reloading = entries
            .get(&tenant)
            .map(|e| e.reloading.clone())
            .unwrap_or_default();
        entries.insert(
            tenant,
            Entry {
                state: state.clone(),
                loaded: Instant::now(),
                reloading,
            },
        );
        Ok(state)
    }
}
