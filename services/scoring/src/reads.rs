//! Score reads: the cache first, the database for misses. A cache hit runs
//! no SQL. Any cache failure degrades to a database read, never to an error.
//!
//! Read-time measures (RFM, value, tier, behaviour, explanations) depend on
//! the score's version, the tenant's state and the day. Computing them costs
//! far more than the rest of a read, so the first reader of a version on a
//! day computes them and writes them back into the cache entry of that same
//! version, tagged with what they were computed for; later readers on any
//! replica serve them as they are. A newer version always replaces the entry
//! (the write-back only lands on the version it was computed from).

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use rapport_kit::{ApiError, error::classify_db_error, tenants::Tenant};
use rapport_proto::v1::{BatchGetScoresResponse, GetScoreResponse, Score, ScoreSource};
use uuid::Uuid;

use crate::{
    enrich, hot::HotScores, periods::day_number, repo::ScoreRepo, score, state::TenantState,
    state::TenantStates,
};

/// The read side of the service.
#[derive(Clone)]
pub struct Reader {
    pub(crate) repo: ScoreRepo,
    pub(crate) hot: Arc<HotScores>,
    pub(crate) states: Arc<TenantStates>,
}

fn state_error(e: sqlx::Error) -> ApiError {
    classify_db_error(e, "tenant scoring state")
}

/// A cached score written before scores carried their basis cannot be
/// enriched; it is read again from the database.
fn usable(s: Option<Score>) -> Option<Score> {
    s.filter(|s| s.basis.is_some())
}

/// Whether `s`, finished for `now`, already carries measures computed for
/// `state` on this day at this recency.
fn current(s: &Score, state: &TenantState, now: DateTime<Utc>) -> bool {
    s.basis.as_ref().is_some_and(|b| {
        b.enriched_state == state.fingerprint
            && b.enriched_day == day_number(now)
            && b.enriched_recency_days == s.recency_days
    })
}

/// Finishes `s` for `now` and computes its measures unless it carries
/// current ones. Returns the copy to write back to the cache (basis kept,
/// tagged) when they were computed; the response copy has no basis.
fn complete_one(
    s: &mut Score,
    state: &TenantState,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Option<Score> {
    score::finish(s, now);
    let write_back = if current(s, state, now) {
        None
    } else {
        enrich::enrich(s, state, tenant.currency, now);
        if let Some(b) = s.basis.as_mut() {
            b.enriched_state = state.fingerprint;
            b.enriched_day = day_number(now);
            b.enriched_recency_days = s.recency_days;
        }
        Some(s.clone())
    };
    s.basis = None;
    write_back
}

impl Reader {
    /// Finishes and enriches scores for `tenant` as of `now` (for pages read
    /// from the database: nothing is written back).
    pub async fn complete(
        &self,
        tenant: &Tenant,
        scores: &mut [Score],
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let state = self.states.get(tenant.id).await.map_err(state_error)?;
        for s in scores.iter_mut() {
            complete_one(s, &state, tenant, now);
        }
        Ok(())
    }

    /// Completes `scores` and writes the newly enriched ones back to the
    /// cache, after the caller has its answer (the write never delays it).
    async fn complete_and_keep(
        &self,
        tenant: &Tenant,
        scores: &mut [Score],
        now: DateTime<Utc>,
        cache_up: bool,
    ) -> Result<(), ApiError> {
        let state = self.states.get(tenant.id).await.map_err(state_error)?;
        let keep: Vec<Score> = scores
            .iter_mut()
            .filter_map(|s| complete_one(s, &state, tenant, now))
            .collect();
        if cache_up && !keep.is_empty() {
            let (hot, id) = (self.hot.clone(), tenant.id);
            tokio::spawn(async move { hot.keep_enriched(id, &keep).await });
        }
        Ok(())
    }

    /// One customer's score.
    pub async fn get(&self, tenant: &Tenant, customer: Uuid) -> Result<GetScoreResponse, ApiError> {
        let now = Utc::now();
        let cache_up = match self.hot.get(tenant.id, customer).await.map(usable) {
            Ok(Some(s)) => {
                let mut s = [s];
                self.complete_and_keep(tenant, &mut s, now, true).await?;
                let [s] = s;
                return Ok(GetScoreResponse {
                    score: Some(s),
                    source: ScoreSource::Cache as i32,
                });
            }
            Ok(None) => true,
            Err(e) => {
                tracing::debug!(error = %e, "score cache unavailable; reading the database");
                false
            }
        };
        let stored = self
            .repo
            .get_many(tenant.id, &[customer])
            .await
            .map_err(|e| classify_db_error(e, "score"))?
            .pop()
            .ok_or_else(|| ApiError::NotFound {
                what: "score",
                id: customer.to_string(),
            })?;
        let mut s = [score::stored(&stored)];
        self.complete_and_keep(tenant, &mut s, now, cache_up)
            .await?;
        let [s] = s;
        Ok(GetScoreResponse {
            score: Some(s),
            source: ScoreSource::Database as i32,
        })
    }

    /// Scores of `ids` in request order; ids without a score are listed as
    /// missing.
    pub async fn batch(
        &self,
        tenant: &Tenant,
        ids: &[Uuid],
    ) -> Result<BatchGetScoresResponse, ApiError> {
        let now = Utc::now();
        let (mut found, cache_up) = match self.hot.get_many(tenant.id, ids).await {
            Ok(found) => (found.into_iter().map(usable).collect::<Vec<_>>(), true),
            Err(e) => {
                tracing::debug!(error = %e, "score cache unavailable; reading the database");
                (vec![None; ids.len()], false)
            }
        };
        let mut misses: Vec<Uuid> = ids
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(id, _)| *id)
            .collect();
        misses.sort_unstable();
        misses.dedup();
        if !misses.is_empty() {
            let stored = self
                .repo
                .get_many(tenant.id, &misses)
                .await
                .map_err(|e| classify_db_error(e, "score"))?;
            let by_id: HashMap<Uuid, Score> = stored
                .iter()
                .map(|s| (s.row.customer_id, score::stored(s)))
                .collect();
            for (slot, id) in found.iter_mut().zip(ids) {
                if slot.is_none() {
                    *slot = by_id.get(id).cloned();
                }
            }
        }
        let mut response = BatchGetScoresResponse::default();
        for (slot, id) in found.into_iter().zip(ids) {
            match slot {
                Some(s) => response.scores.push(s),
                None => response.missing_customer_ids.push(id.to_string()),
            }
        }
        self.complete_and_keep(tenant, &mut response.scores, now, cache_up)
            .await?;
        Ok(response)
    }
}
