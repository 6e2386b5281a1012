//! How a read answers: what the cache gave for a customer, and the response
//! computed from a stored score for the tenant's state and the day.

use chrono::{DateTime, Utc};
use prost::Message;
use rapport_kit::{
    codec::put_len_field, codec::put_varint_field, domain::timestamp_to_chrono, tenants::Tenant,
};
use rapport_proto::v1::{Score, ScoreSource};

use crate::{
    aggregates::figures,
    calendar::day_number,
    scores::{
        assemble,
        cache::{Cached, Envelope, Tag},
    },
    value::{measures, tenant_state::TenantState},
};

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
        && tag.recency_days == figures::recency_days(last, now)
}

/// A stored score (with its basis) finished and enriched for `now`, with
/// the basis left out as responses leave it.
pub(super) fn response(
    stored: &Score,
    state: &TenantState,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Score {
    let mut s = stored.clone();
    assemble::finish(&mut s, now);
    measures::enrich(&mut s, state, tenant.currency, now);
    s.basis = None;
    s
}

/// The encoded response for `stored` and the envelope to keep in the cache.
pub(super) fn respond(
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
pub(super) fn frame_get(score: &[u8], source: ScoreSource) -> Vec<u8> {
    let mut out = Vec::with_capacity(score.len() + 8);
    put_len_field(&mut out, 1, score);
    put_varint_field(&mut out, 2, source as u64);
    out
}

/// What the cache gave for one customer.
pub(super) enum Found {
    /// A response to send as it is.
    Ready(Envelope),
    /// A stored score to compute the response from.
    Stored(Box<Score>),
    /// Nothing usable.
    Missing,
}

pub(super) fn classify(cached: Option<Cached>, state: &TenantState, now: DateTime<Utc>) -> Found {
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
