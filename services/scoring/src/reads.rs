//! Score reads: the cache first, the database for misses, and the cache
//! refilled from what the database returned. Any cache failure degrades to a
//! database read, never to an error. Every score is enriched on the way out
//! with the tenant's in-process state (see [`crate::state`]).

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use rapport_kit::{ApiError, error::classify_db_error, tenants::Tenant};
use rapport_proto::v1::{BatchGetScoresResponse, GetScoreResponse, Score, ScoreSource};
use uuid::Uuid;

use crate::{
    engine::db_error, enrich, hot::HotScores, repo::ScoreRepo, score, state::TenantStates,
};

/// The read side of the service.
#[derive(Clone)]
pub struct Reader {
    pub(crate) repo: ScoreRepo,
    pub(crate) hot: Arc<HotScores>,
    pub(crate) states: Arc<TenantStates>,
    pub(crate) memo: Arc<enrich::Memo>,
    /// Tags and tier overrides set by rules.
    pub(crate) marks: Arc<crate::rules::MarksView>,
}

/// A cached score written before scores carried their basis cannot be
/// enriched; it is read again from the database.
fn usable(s: Option<Score>) -> Option<Score> {
    s.filter(|s| s.basis.is_some())
}

impl Reader {
    /// Finishes and enriches scores for `tenant` as of `now`.
    pub async fn complete(
        &self,
        tenant: &Tenant,
        scores: &mut [Score],
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let state = self.states.get(tenant.id).await.map_err(db_error)?;
        for s in scores.iter_mut() {
            score::finish(s, now);
            self.memo.enrich(tenant.id, s, &state, tenant.currency, now);
        }
        self.marks.apply(tenant.id, scores).await.map_err(db_error)
    }

    /// One customer's score.
    pub async fn get(&self, tenant: &Tenant, customer: Uuid) -> Result<GetScoreResponse, ApiError> {
        let now = Utc::now();
        let cache_up = match self.hot.get(tenant.id, customer).await.map(usable) {
            Ok(Some(s)) => {
                let mut s = [s];
                self.complete(tenant, &mut s, now).await?;
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
        let s = score::stored(&stored);
        if cache_up {
            self.hot.fill(tenant.id, std::slice::from_ref(&s)).await;
        }
        let mut s = [s];
        self.complete(tenant, &mut s, now).await?;
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
            let loaded: Vec<Score> = stored.iter().map(score::stored).collect();
            if cache_up && !loaded.is_empty() {
                self.hot.fill(tenant.id, &loaded).await;
            }
            let by_id: HashMap<Uuid, &Score> = stored
                .iter()
                .map(|s| s.row.customer_id)
                .zip(loaded.iter())
                .collect();
            for (slot, id) in found.iter_mut().zip(ids) {
                if slot.is_none() {
                    *slot = by_id.get(id).map(|s| (*s).clone());
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
        self.complete(tenant, &mut response.scores, now).await?;
        Ok(response)
    }
}
