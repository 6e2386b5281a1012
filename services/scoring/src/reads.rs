//! Score reads: the cache first, the database for misses, and the cache
//! refilled from what the database returned. Any cache failure degrades to a
//! database read, never to an error.

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use rapport_kit::{ApiError, error::classify_db_error};
use rapport_proto::v1::{BatchGetScoresResponse, GetScoreResponse, Score, ScoreSource};
use uuid::Uuid;

use crate::{hot::HotScores, repo::ScoreRepo, score};

/// The read side of the service.
#[derive(Clone)]
pub struct Reader {
    pub(crate) repo: ScoreRepo,
    pub(crate) hot: Arc<HotScores>,
}

impl Reader {
    /// One customer's score.
    pub async fn get(&self, tenant: Uuid, customer: Uuid) -> Result<GetScoreResponse, ApiError> {
        let now = Utc::now();
        let cache_up = match self.hot.get(tenant, customer).await {
            Ok(Some(mut s)) => {
                score::finish(&mut s, now);
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
            .get_many(tenant, &[customer])
            .await
            .map_err(|e| classify_db_error(e, "score"))?
            .pop()
            .ok_or_else(|| ApiError::NotFound {
                what: "score",
                id: customer.to_string(),
            })?;
        let mut s = score::stored(&stored);
        if cache_up {
            self.hot.fill(tenant, std::slice::from_ref(&s)).await;
        }
        score::finish(&mut s, now);
        Ok(GetScoreResponse {
            score: Some(s),
            source: ScoreSource::Database as i32,
        })
    }

    /// Scores of `ids` in request order; ids without a score are listed as
    /// missing.
    pub async fn batch(
        &self,
        tenant: Uuid,
        ids: &[Uuid],
    ) -> Result<BatchGetScoresResponse, ApiError> {
        let now = Utc::now();
        let (mut found, cache_up) = match self.hot.get_many(tenant, ids).await {
            Ok(found) => (found, true),
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
                .get_many(tenant, &misses)
                .await
                .map_err(|e| classify_db_error(e, "score"))?;
            let loaded: Vec<Score> = stored.iter().map(score::stored).collect();
            if cache_up && !loaded.is_empty() {
                self.hot.fill(tenant, &loaded).await;
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
                Some(mut s) => {
                    score::finish(&mut s, now);
                    response.scores.push(s);
                }
                None => response.missing_customer_ids.push(id.to_string()),
            }
        }
        Ok(response)
    }
}
