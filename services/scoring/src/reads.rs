//! Score reads: the cache first, the database for misses. A cache hit runs
//! no SQL. Any cache failure degrades to a database read, never to an error.
//!
//! Read-time measures (RFM, value, tier, behaviour, explanations) depend on
//! the score's version, the tenant's state, the day and the recency, and
//! computing them costs far more than the rest of a read. So the first
//! reader of a version computes the whole response and writes it back into
//! the cache entry of that same version, encoded, tagged with what it
//! depends on ([`Tag`]); later readers on any replica send those bytes as
//! they are, without decoding or encoding the score. A newer version always
//! replaces the entry (the write-back only lands on its own version).

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use prost::Message;
use rapport_kit::{
    ApiError,
    codec::{put_len_field, put_varint_field},
    domain::timestamp_to_chrono,
    error::classify_db_error,
    tenants::Tenant,
};
use rapport_proto::v1::{BatchGetScoresResponse, GetScoreResponse, Score, ScoreSource};
use uuid::Uuid;

use crate::{
    calc, enrich,
    hot::{Cached, Envelope, HotScores, Tag},
    periods::day_number,
    repo::ScoreRepo,
    score,
    state::{TenantState, TenantStates},
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

fn last_purchase(s: &Score) -> Option<DateTime<Utc>> {
    s.last_purchase_at
        .as_ref()
        .and_then(|t| timestamp_to_chrono(t).ok())
}

/// Whether a response computed for `tag` is the one `state` gives now.
fn current(tag: &Tag, state: &TenantState, now: DateTime<Utc>) -> bool {
    let last = tag
        .last_purchase_micros
        .map(rapport_kit::domain::from_micros);
    tag.state == state.fingerprint
        && tag.day == day_number(now)
        && tag.recency_days == calc::recency_days(last, now)
}

/// A stored score (with its basis) finished and enriched for `now`, with
/// the basis left out as responses leave it.
fn response(stored: &Score, state: &TenantState, tenant: &Tenant, now: DateTime<Utc>) -> Score {
    let mut s = stored.clone();
    score::finish(&mut s, now);
    enrich::enrich(&mut s, state, tenant.currency, now);
    s.basis = None;
    s
}

/// The encoded response for `stored` and the envelope to keep in the cache.
fn respond(
    stored: &Score,
    state: &TenantState,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> (Vec<u8>, Vec<u8>) {
    let s = response(stored, state, tenant, now);
    let bytes = s.encode_to_vec();
    let tag = Tag {
        state: state.fingerprint,
        day: day_number(now),
        last_purchase_micros: last_purchase(stored).map(rapport_kit::domain::to_micros),
        recency_days: s.recency_days,
    };
    let envelope = Envelope::build(tag, &bytes, &stored.encode_to_vec());
    (bytes, envelope)
}

/// A `GetScoreResponse` around an encoded score.
fn frame_get(score: &[u8], source: ScoreSource) -> Vec<u8> {
    let mut out = Vec::with_capacity(score.len() + 8);
    put_len_field(&mut out, 1, score);
    put_varint_field(&mut out, 2, source as u64);
    out
}

/// What the cache gave for one customer.
enum Found {
    /// A response to send as it is.
    Ready(Envelope),
    /// A stored score to compute the response from.
    Stored(Box<Score>),
    /// Nothing usable.
    Missing,
}

fn classify(cached: Option<Cached>, state: &TenantState, now: DateTime<Utc>) -> Found {
    match cached {
        Some(Cached::Enriched(e)) if current(&e.tag(), state, now) => Found::Ready(e),
        Some(Cached::Enriched(e)) => e
            .stored()
            .filter(|s| s.basis.is_some())
            .map_or(Found::Missing, |s| Found::Stored(Box::new(s))),
        // Written before scores carried their basis: read again.
        Some(Cached::Plain(s)) if s.basis.is_some() => Found::Stored(s),
        _ => Found::Missing,
    }
}

impl Reader {
    /// Finishes and enriches scores read from the database for `tenant` as
    /// of `now` (pages and lists: nothing is written back).
    pub async fn complete(
        &self,
        tenant: &Tenant,
        scores: &mut [Score],
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let state = self.states.get(tenant.id).await.map_err(state_error)?;
        for s in scores.iter_mut() {
            *s = response(s, &state, tenant, now);
        }
        Ok(())
    }

    /// Keeps computed responses in the cache after the caller has its
    /// answer (the write never delays it).
    fn keep(&self, tenant: Uuid, envelopes: Vec<(Uuid, u64, Vec<u8>)>) {
        if envelopes.is_empty() {
            return;
        }
        let hot = self.hot.clone();
        tokio::spawn(async move { hot.keep_enriched(tenant, envelopes).await });
    }

    /// One customer's score as an encoded `GetScoreResponse`.
    pub async fn get_encoded(&self, tenant: &Tenant, customer: Uuid) -> Result<Vec<u8>, ApiError> {
        let now = Utc::now();
        let state = self.states.get(tenant.id).await.map_err(state_error)?;
        let (found, cache_up) = match self.hot.get(tenant.id, customer).await {
            Ok(cached) => (classify(cached, &state, now), true),
            Err(e) => {
                tracing::debug!(error = %e, "score cache unavailable; reading the database");
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
                    .map_err(|e| classify_db_error(e, "score"))?
                    .pop()
                    .ok_or_else(|| ApiError::NotFound {
                        what: "score",
                        id: customer.to_string(),
                    })?;
                (score::stored(&row), ScoreSource::Database)
            }
        };
        let (bytes, envelope) = respond(&stored, &state, tenant, now);
        if cache_up {
            self.keep(tenant.id, vec![(customer, stored.version, envelope)]);
        }
        Ok(frame_get(&bytes, source))
    }

    /// One customer's score.
    pub async fn get(&self, tenant: &Tenant, customer: Uuid) -> Result<GetScoreResponse, ApiError> {
        let bytes = self.get_encoded(tenant, customer).await?;
        GetScoreResponse::decode(bytes.as_slice())
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("assembled response: {e}")))
    }

    /// Scores of `ids` in request order as an encoded
    /// `BatchGetScoresResponse`; ids without a score are listed as missing.
    pub async fn batch_encoded(&self, tenant: &Tenant, ids: &[Uuid]) -> Result<Vec<u8>, ApiError> {
        let now = Utc::now();
        let state = self.states.get(tenant.id).await.map_err(state_error)?;
        let (cached, cache_up) = match self.hot.get_many(tenant.id, ids).await {
            Ok(found) => (found, true),
            Err(e) => {
                tracing::debug!(error = %e, "score cache unavailable; reading the database");
                (ids.iter().map(|_| None).collect(), false)
            }
        };
        let mut found: Vec<Found> = cached
            .into_iter()
            .map(|c| classify(c, &state, now))
            .collect();
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
                .map_err(|e| classify_db_error(e, "score"))?;
            let by_id: HashMap<Uuid, Score> = rows
                .iter()
                .map(|s| (s.row.customer_id, score::stored(s)))
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
    ) -> Result<BatchGetScoresResponse, ApiError> {
        let bytes = self.batch_encoded(tenant, ids).await?;
        BatchGetScoresResponse::decode(bytes.as_slice())
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("assembled response: {e}")))
    }
}
