//! ApplyChanges: a call's validated changes counted once each, folded into
//! the customers' aggregates in one transaction (with the rules' work rows),
//! and the new scores published to the cache after the commit.

use chrono::{DateTime, Utc};
use rapport_kit::domain::CurrencyCode;
use uuid::Uuid;

use super::{Scores, assemble};
use crate::{
    aggregates::changes::{Change, dedupe},
    error::{Error, storage},
};

/// What a call did: changes applied for the first time, and changes already
/// applied (by an earlier call, or repeated within this one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Applied now.
    pub applied: u32,
    /// Seen before.
    pub duplicates: u32,
}

impl Scores {
    /// Applies `changes` for `tenant` in its `currency` as of `now`.
    pub async fn apply(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        changes: Vec<Change>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, Error> {
        let total = changes.len() as u32;
        let changes = dedupe(changes);
        if changes.is_empty() {
            return Ok(Outcome {
                applied: 0,
                duplicates: total,
            });
        }
        let applied = self
            .repo
            .apply(tenant, currency.as_str(), &changes, now)
            .await
            .map_err(storage("score"))?;
        // After commit: a cached score is never ahead of the database.
        let scores: Vec<_> = applied.scores.iter().map(assemble::stored).collect();
        self.cache.publish(tenant, &scores).await;
        tracing::debug!(
            applied = applied.applied,
            customers = scores.len(),
            "changes applied"
        );
        Ok(Outcome {
            applied: applied.applied,
            duplicates: total - applied.applied,
        })
    }
}
