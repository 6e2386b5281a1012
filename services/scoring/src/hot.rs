//! The hot-score cache: key layout, encoding, and writes that never fail a
//! call (the database is the record; the cache only saves reads).

use std::{sync::Arc, time::Duration};

use prost::Message;
use rapport_cache::VersionedCache;
use rapport_proto::v1::Score;
use uuid::Uuid;

/// How long a cached score lives without being refreshed.
pub const TTL: Duration = Duration::from_secs(600);

/// `{prefix}:{{tenant}}:score:{customer}`. The braces are a Redis Cluster
/// hash tag: all of a tenant's keys live in one slot.
pub fn key(prefix: &str, tenant: Uuid, customer: Uuid) -> String {
    format!("{prefix}:{{{tenant}}}:score:{customer}")
}

/// Decodes a cached score; `None` (a miss) for bytes that do not decode.
pub fn decode(bytes: &[u8]) -> Option<Score> {
    match Score::decode(bytes) {
        Ok(score) => Some(score),
        Err(e) => {
            tracing::warn!(error = %e, "undecodable cached score; reading the database");
            None
        }
    }
}

/// Writes `scores` (time-independent parts) with their versions, so no
/// write replaces a newer score. Failures are logged and swallowed.
pub async fn store(cache: &Arc<dyn VersionedCache>, prefix: &str, tenant: Uuid, scores: &[Score]) {
    let puts = scores.iter().filter_map(|s| {
        let customer = Uuid::parse_str(&s.customer_id).ok()?;
        let key = key(prefix, tenant, customer);
        let bytes = s.encode_to_vec();
        Some(async move { cache.put_if_newer(&key, s.version, &bytes, TTL).await })
    });
    let results = futures::future::join_all(puts).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        tracing::warn!(failed, total = results.len(), error = %e, "score cache write failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hash_tagged_by_tenant() {
        let (t, c) = (Uuid::nil(), Uuid::max());
        assert_eq!(
            key("rapport", t, c),
            "rapport:{00000000-0000-0000-0000-000000000000}:score:ffffffff-ffff-ffff-ffff-ffffffffffff"
        );
    }
}
