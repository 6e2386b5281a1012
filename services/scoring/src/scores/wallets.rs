//! Wallet estimates on scores. A changed estimate is a new version of the
//! customer's score (share of wallet depends on it), published to the cache.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Scores, assemble};
use crate::error::{Error, storage};

impl Scores {
    /// Makes the stored estimates of the customers whose ids lie in
    /// `(after, upto]` those `found` (customer to estimate, every estimate
    /// of that range): changed ones are set and those no longer in it
    /// cleared; the scores they change are published. Returns how many
    /// changed.
    pub async fn replace_wallets(
        &self,
        tenant: Uuid,
        (after, upto): (Uuid, Uuid),
        found: &HashMap<Uuid, i64>,
        now: DateTime<Utc>,
    ) -> Result<usize, Error> {
        let stored = self
            .repo
            .wallet_estimates(tenant, after, upto)
            .await
            .map_err(storage("score"))?;
        let mut updates: Vec<(Uuid, Option<i64>)> = found
            .iter()
            .filter(|(id, e)| stored.get(id) != Some(e))
            .map(|(id, e)| (*id, Some(*e)))
            .collect();
        // The range was listed whole: an estimate not in it was removed.
        updates.extend(
            stored
                .keys()
                .filter(|id| !found.contains_key(id))
                .map(|id| (*id, None)),
        );
        // Sorted by customer, so every writer locks rows in one order.
        updates.sort_unstable();
        let changed = self
            .repo
            .set_wallets(tenant, &updates, now)
            .await
            .map_err(storage("score"))?;
        let scores: Vec<_> = changed.iter().map(assemble::stored).collect();
        self.cache.publish(tenant, &scores).await;
        Ok(scores.len())
    }
}
