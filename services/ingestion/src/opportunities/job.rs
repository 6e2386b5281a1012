//! The refit job: a background loop that leases each tenant whose events
//! changed (or whose last refit is older than `refresh_hours`), fits its
//! pipeline model, scores its open opportunities, rolls them up per
//! account, parent account and tier, and stores the lot in one
//! transaction. Safe in any number of replicas: a tenant is leased by one
//! conditional update, and a worker whose lease ran out writes nothing.

use std::{collections::HashMap, time::Duration};

use chrono::Utc;
use rapport_kit::{Db, internal::InternalCredentials, shutdown::Shutdown};
use rapport_proto::v1::{
    BatchGetScoresRequest, GetCustomerRequest, profiles_service_client::ProfilesServiceClient,
    scoring_service_client::ScoringServiceClient,
};
use rapport_science::pipeline::{PipelineModel, PipelineOptions};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

use super::{
    OpportunitiesConfig, score,
    store::{Snapshot, Store},
};

/// How long one refit holds its tenant; a refit that fails (a peer down)
/// is retried once this runs out.
const LEASE: Duration = Duration::from_secs(60);
/// Bound on each call to a peer.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Customers per BatchGetScores call.
const SCORES_PER_CALL: usize = 100;

/// Why a refit failed; the tenant is retried when its lease runs out.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RefitError {
    #[error("storage: {0}")]
    Db(#[from] sqlx::Error),
    /// Only the code: a peer's message might quote customer data.
    #[error("{0} answered {1:?}")]
    Peer(&'static str, Code),
}

/// What the job needs.
#[derive(Clone)]
pub(crate) struct Refit {
    pub store: Store,
    pub profiles: ProfilesServiceClient<Channel>,
    pub scoring: ScoringServiceClient<Channel>,
    pub internal: InternalCredentials,
    pub config: OpportunitiesConfig,
    pub owner: Uuid,
}

/// Runs the job until `shutdown`, after migrating (the worker may start
/// before the health check has).
pub(crate) async fn run(db: Db, refit: Refit, shutdown: Shutdown) {
    let poll = Duration::from_millis(refit.config.poll_interval_ms);
    loop {
        tokio::select! {
            migrated = migrate(db.clone()) => if migrated { break },
            _ = shutdown.wait() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.wait() => return,
        }
    }
    while !shutdown.is_triggered() {
        let round = tokio::select! {
            r = refit.round() => r,
            _ = shutdown.wait() => break,
        };
        if let Err(error) = round {
            tracing::warn!(%error, "opportunity refit failed; retried when its lease ends");
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.wait() => break,
        }
    }
}

/// Whether the schema is migrated (idempotent). The database is owned, so
/// the future borrows nothing from the caller.
async fn migrate(db: Db) -> bool {
    db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await.is_ok()
}

impl Refit {
    /// Asks for the refits the age of the last one calls for, then runs
    /// every refit due; the tenants refitted.
    pub(crate) async fn round(&self) -> Result<usize, RefitError> {
        let now = Utc::now();
        if self.config.refresh_hours > 0 {
            let stale = now - chrono::Duration::hours(i64::from(self.config.refresh_hours));
            self.store.request_stale(stale).await?;
        }
        let mut done = 0;
        loop {
            let now = Utc::now();
            let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
            let Some((tenant, seq)) = self.store.claim(self.owner, now, until).await? else {
                return Ok(done);
            };
            self.tenant(tenant, seq).await?;
            done += 1;
        }
    }

    /// Refits one leased tenant, covering request sequence `seq`.
    async fn tenant(&self, tenant: Uuid, seq: i64) -> Result<(), RefitError> {
        let started = std::time::Instant::now();
        let events = self.store.events(tenant).await?;
        let folded = score::fold_all(&events);
        drop(events);
        let options = PipelineOptions {
            min_closed: self.config.min_closed,
            ..PipelineOptions::default()
        };
        let deals: Vec<_> = folded.iter().map(|f| f.deal.clone()).collect();
        let model = PipelineModel::fit(&deals, options);
        let now = Utc::now();
        let rows = score::score_all(&model, &folded, now);
        let accounts: Vec<Uuid> = score::accounts(&rows);
        let parents = self.parents(tenant, &accounts).await?;
        let tiers = self.tiers(tenant, &accounts).await?;
        let rollups = score::rollups(&rows, &parents, &tiers);
        let figures = score::figures(&model, &folded);
        let model_json = serde_json::to_string(&figures).unwrap_or_default();
        let snapshot = Snapshot {
            seq,
            now,
            model: &model_json,
            opportunities: &rows,
            rollups: &rollups,
        };
        let stored = self.store.store(tenant, self.owner, snapshot).await?;
        tracing::info!(
            %tenant,
            opportunities = rows.len(),
            stored,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "opportunities refitted"
        );
        Ok(())
    }

    /// Each account's parent account, from Profiles; accounts without one
    /// (or no longer known) are left out.
    async fn parents(
        &self,
        tenant: Uuid,
        accounts: &[Uuid],
    ) -> Result<HashMap<Uuid, String>, RefitError> {
        use futures::StreamExt;
        // Collected first: a lazy iterator over borrowed accounts inside the
        // stream makes the job's future not provably Send.
        let calls: Vec<_> = accounts
            .iter()
            .map(|&a| {
                let mut profiles = self.profiles.clone();
                let mut request = self.internal.request(
                    tenant,
                    None,
                    GetCustomerRequest {
                        customer_id: a.to_string(),
                    },
                );
                request.set_timeout(CALL_TIMEOUT);
                async move { (a, profiles.get_customer(request).await) }
            })
            .collect();
        let answers: Vec<_> = futures::stream::iter(calls)
            .buffer_unordered(8)
            .collect()
            .await;
        let mut parents = HashMap::new();
        for (account, answer) in answers {
            match answer {
                Ok(r) => {
                    let parent = r.into_inner().customer.map(|c| c.parent_id);
                    if let Some(p) = parent.filter(|p| !p.is_empty()) {
                        parents.insert(account, p);
                    }
                }
                Err(s) if s.code() == Code::NotFound => {}
                Err(s) => return Err(RefitError::Peer("profiles GetCustomer", s.code())),
            }
        }
        Ok(parents)
    }

    /// Each account's service tier, from scoring; accounts without a score
    /// or a tier are left out.
    async fn tiers(
        &self,
        tenant: Uuid,
        accounts: &[Uuid],
    ) -> Result<HashMap<Uuid, String>, RefitError> {
        let mut tiers = HashMap::new();
        for chunk in accounts.chunks(SCORES_PER_CALL) {
            let ids = chunk.iter().map(Uuid::to_string).collect();
            let mut request =
                self.internal
                    .request(tenant, None, BatchGetScoresRequest { customer_ids: ids });
            request.set_timeout(CALL_TIMEOUT);
            let scores = self
                .scoring
                .clone()
                .batch_get_scores(request)
                .await
                .map_err(|s| RefitError::Peer("scoring BatchGetScores", s.code()))?
                .into_inner()
                .scores;
            for s in scores {
                if let (Ok(id), false) = (Uuid::parse_str(&s.customer_id), s.tier.is_empty()) {
                    tiers.insert(id, s.tier);
                }
            }
        }
        Ok(tiers)
    }
}
