//! Every tenant's [`TenantState`] held in process, so that enriching a score
//! is arithmetic only. An entry older than [`MAX_AGE`] is served while a
//! reload runs in the background (other replicas' fits show up within
//! that); this replica's own writes replace the entry at once.

use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use rapport_kit::domain::CurrencyCode;
use rapport_proto::v1::ScoringSettings;
use uuid::Uuid;

use super::tenant_state::TenantState;
use crate::{
    calendar::to_stored_precision,
    error::{Error, storage},
    repo::models::{ModelRepo, StoredSettings},
};

/// How long a loaded state is served before it is reloaded.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// A load of tenant state that failed: a read, not a model failure.
const WHAT: &str = "tenant scoring state";

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
    pub async fn get(self: &Arc<Self>, tenant: Uuid) -> Result<Arc<TenantState>, Error> {
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
    pub async fn reload(&self, tenant: Uuid) -> Result<Arc<TenantState>, Error> {
        let settings = self.repo.settings(tenant).await.map_err(storage(WHAT))?;
        let fit = self.repo.fit(tenant, None).await.map_err(storage(WHAT))?;
        let population = self.repo.population(tenant).await.map_err(storage(WHAT))?;
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

    /// The tenant's settings as stored (defaults until changed).
    pub async fn settings(&self, tenant: Uuid) -> Result<StoredSettings, Error> {
        self.repo
            .settings(tenant)
            .await
            .map_err(storage("scoring settings"))
    }

    /// UpdateScoringSettings: the fields of `mask` (every field when empty)
    /// taken from `update` onto the current settings, each checked, and
    /// stored unless nothing changes; the tenant's state is then reloaded.
    /// Returns the settings stored and whether they changed.
    pub async fn update_settings(
        &self,
        tenant: Uuid,
        update: &ScoringSettings,
        mask: &[String],
        currency: CurrencyCode,
    ) -> Result<(StoredSettings, bool), Error> {
        let current = self.settings(tenant).await?;
        let next = current.settings.updated(update, mask, currency)?;
        let now = to_stored_precision(Utc::now());
        let (stored, changed) = self
            .repo
            .put_settings(tenant, &next, now)
            .await
            .map_err(storage("scoring settings"))?;
        if changed {
            self.reload(tenant).await?;
            tracing::info!(version = stored.version, "scoring settings changed");
        }
        Ok((stored, changed))
    }
}
