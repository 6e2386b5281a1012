//! Score reads: the cache first, the database for misses. A cache hit runs
//! no SQL, and any cache failure degrades to a database read, never to an error.

mod list;
mod respond;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use prost::Message;
use rapport_kit::{codec::put_len_field, tenants::Tenant};
use rapport_proto::v1::{BatchGetScoresResponse, GetScoreResponse, Score, ScoreSource};
use uuid::Uuid;

use respond::{Found, classify, frame_get, respond, response};

use super::{Scores, assemble};
use crate::error::{Error, storage};

impl Scores {
    /// Finishes and enriches scores read from the database for `tenant` as
    /// of `now` (pages and lists: nothing is written back).
    pub async fn complete(
        &self,
        tenant: &Tenant,
        scores: &mut [Score],
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let state = self.states.get(tenant.id).await?;
        for s in scores.iter_mut() {
            *s = response(s, &state, tenant, now);
        }
        Ok(())
    }

    /// Keeps computed responses in the cache after the caller has its
    /// answer (the write never delays it).
    ///
    /// Read-time measures (RFM, value, tier, behaviour, explanations) depend
    /// on the score's version, the tenant's state, the day and the recency,
    /// and cost far more than the rest of a read. So the first reader of a
    /// version writes the whole encoded response back into the cache entry
    /// of that same version, tagged with what it depends on
    /// ([`Tag`](super::cache::Tag)); later readers on any replica send those
    /// bytes as they are. A newer version always replaces the entry (the
    /// write-back only lands on its own version).
    fn keep(&self, tenant: Uuid, envelopes: Vec<(Uuid, u64, Vec<u8>)>) {
        if envelopes.is_empty() {
            return;
        }
        let cache = self.cache.clone();
        tokio::spawn(async move { cache.keep_enriched(tenant, envelopes).await });
    }

    /// One customer's score as an encoded `GetScoreResponse`.
    pub async fn get_encoded(&self, tenant: &Tenant, customer: Uuid) -> Result<Vec<u8>, Error> {
        let now = Utc::now();
        let state = self.states.get(tenant.id).await?;
        let (found, cache_up) = match self.cache.get(tenant.id, customer).await {
            Ok(cached) => {
                let found = classify(cached, &state, now);
                let hit = !matches!(found, Found::Missing);
                crate::metrics::cache_lookups(hit.into(), (!hit).into());
                (found, true)
            }
            Err(e) => {
                tracing::debug!(error = %e, "score cache unavailable; reading the database");
                crate::metrics::cache_unavailable(1);
                (Found::Missing, false)
            }
        };
        let (stored, source) = match found {
            Found::Ready(e) => return Ok(frame_get(e.response(), ScoreSource::Cache)),
            Found::Stored(s) => (*s, ScoreSource::Cache),
            Found::Missing => {
                let row = self
                    .repo
                    .get_many(tenant.id, &[customer])
                    .await
                    .map_err(storage("score"))?
                    .pop()
                    .ok_or_else(|| Error::NotFound {
                        what: "score",
                        id: customer.to_string(),
                    })?;
                (assemble::stored(&row), ScoreSource::Database)
            }
        };
        let (bytes, envelope) = respond(&stored, &state, tenant, now);
        if cache_up {
            self.keep(tenant.id, vec![(customer, stored.version, envelope)]);
        }
        Ok(frame_get(&bytes, source))
    }

    /// One customer's score.
    pub async fn get(&self, tenant: &Tenant, customer: Uuid) -> Result<GetScoreResponse, Error> {
        let bytes = self.get_encoded(tenant, customer).await?;
        GetScoreResponse::decode(bytes.as_slice())
            .map_err(|e| Error::Internal(anyhow::anyhow!("assembled response: {e}")))
    }

    /// Scores of `ids` in request order as an encoded
    /// `BatchGetScoresResponse`; ids without a score are listed as missing.
    pub async fn batch_encoded(&self, tenant: &Tenant, ids: &[Uuid]) -> Result<Vec<u8>, Error> {
        let now = Utc::now();
        let state = self.states.get(tenant.id).await?;
        let (cached, cache_up) = match self.cache.get_many(tenant.id, ids).await {
            Ok(found) => (found, true),
            Err(e) => {
                tracing::debug!(error = %e, "score cache unavailable; reading the database");
                crate::metrics::cache_unavailable(ids.len() as u64);
                (ids.iter().map(|_| None).collect(), false)
            }
        };
        let mut found: Vec<Found> = cached
            .into_iter()
            .map(|c| classify(c, &state, now))
            .collect();
        if cache_up {
            let misses = found.iter().filter(|f| matches!(f, Found::Missing)).count() as u64;
            crate::metrics::cache_lookups(found.len() as u64 - misses, misses);
        }
        let mut misses: Vec<Uuid> = ids
            .iter()
            .zip(&found)
            .filter(|(_, f)| matches!(f, Found::Missing))
            .map(|(id, _)| *id)
            .collect();
        misses.sort_unstable();
        misses.dedup();
        if !misses.is_empty() {
            let rows = self
                .repo
                .get_many(tenant.id, &misses)
                .await
                .map_err(storage("score"))?;
            let by_id: HashMap<Uuid, Score> = rows
                .iter()
                .map(|s| (s.row.customer_id, assemble::stored(s)))
                .collect();
            for (slot, id) in found.iter_mut().zip(ids) {
                if matches!(slot, Found::Missing)
                    && let Some(s) = by_id.get(id)
                {
                    *slot = Found::Stored(Box::new(s.clone()));
                }
            }
        }
        let mut out = Vec::new();
        let mut computed: HashMap<Uuid, Vec<u8>> = HashMap::new();
        let mut keep = Vec::new();
        let mut missing = Vec::new();
        for (slot, id) in found.iter().zip(ids) {
            match slot {
                Found::Ready(e) => put_len_field(&mut out, 1, e.response()),
                Found::Stored(s) => {
                    let bytes = computed.entry(*id).or_insert_with(|| {
                        let (bytes, envelope) = respond(s, &state, tenant, now);
                        keep.push((*id, s.version, envelope));
                        bytes
                    });
                    put_len_field(&mut out, 1, bytes);
                }
                Found::Missing => missing.push(id.to_string()),
            }
        }
        for id in &missing {
            put_len_field(&mut out, 2, id.as_bytes());
        }
        if cache_up {
            self.keep(tenant.id, keep);
        }
        Ok(out)
    }

    /// Scores of `ids` in request order; ids without a score are listed as
    /// missing.
    pub async fn batch(
        &self,
        tenant: &Tenant,
        ids: &[Uuid],
    ) -> Result<BatchGetScoresResponse, Error> {
        let bytes = self.batch_encoded(tenant, ids).await?;
        BatchGetScoresResponse::decode(bytes.as_slice())
            .map_err(|e| Error::Internal(anyhow::anyhow!("assembled response: {e}")))
    }
}
