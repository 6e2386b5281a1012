//! Wallet estimates on scores. A changed estimate is a new version of the
//! customer's score (share of wallet depends on it), published to the cache.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Scores, assemble};
use crate::error::{Error, storage};

impl Scores {
    /// The stored wallet estimates of the tenant's customers.
    pub async fn wallet_estimates(&self, tenant: Uuid) -> Result<HashMap<Uuid, i64>, Error> {
        self.repo
            .wallet_estimates(tenant)
            .await
            .map_err(storage("score"))
    }

    /// Sets (or with `None` clears) the estimates of `updates`, sorted by
    /// customer, and publishes the scores they change; how many changed.
    pub async fn set_wallets(
        &self,
        tenant: Uuid,
        updates: &[(Uuid, Option<i64>)],
        now: DateTime<Utc>,
    ) -> Result<usize, Error> {
        let changed = self
            .repo
            .set_wallets(tenant, updates, now)
            .await
            .map_err(storage("score"))?;
        let scores: Vec<_> = changed.iter().map(assemble::stored).collect();
        self.cache.publish(tenant, &scores).await;
        Ok(scores.len())
    }
}
