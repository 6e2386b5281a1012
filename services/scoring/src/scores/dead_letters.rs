//! Dead letters over the API: listed per tenant, and re-driven through the
//! same path ApplyChanges takes, so a change is still counted once whichever
//! way it arrives.

use chrono::{DateTime, Utc};
use prost::Message;
use rapport_kit::domain::CurrencyCode;
use rapport_proto::v1::ChangeEvent;
use uuid::Uuid;

use super::{
    Scores,
    apply::{Fate, Outcome},
};
use crate::{
    error::{Error, storage},
    repo::dead_letters::StoredLetter,
};

/// Dead letters re-driven by one call that names none.
pub const REDRIVE_BATCH: u32 = 100;

impl Scores {
    /// A page of the tenant's dead letters by change id, after `after`, and
    /// how many it has in all.
    pub async fn dead_letters(
        &self,
        tenant: Uuid,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<StoredLetter>, u64), Error> {
        let page = self.repo.dead_letters(tenant, after, limit).await;
        let page = page.map_err(storage("dead letter"))?;
        let total = self.repo.count_dead_letters(tenant).await;
        Ok((page, total.map_err(storage("dead letter"))?))
    }

    /// Applies the tenant's dead letters of `ids` (the first
    /// [`REDRIVE_BATCH`] when empty) again. Those applied now or before
    /// leave the dead letters; the others stay with their new reason. Also
    /// returns how many the tenant has left.
    pub async fn redrive(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<(Outcome, u64), Error> {
        let letters = self
            .repo
            .dead_letters_to_redrive(tenant, ids, REDRIVE_BATCH)
            .await
            .map_err(storage("dead letter"))?;
        // Stored as delivered, from a decoded message, so they decode; one
        // that does not is kept as it is.
        let events: Vec<ChangeEvent> = letters
            .iter()
            .filter_map(|l| ChangeEvent::decode(l.letter.change.as_slice()).ok())
            .collect();
        let outcome = self.apply(tenant, currency, &events, now).await?;
        let done: Vec<String> = outcome
            .results
            .iter()
            .filter(|(_, f)| !matches!(f, Fate::DeadLettered(_)))
            .map(|(id, _)| id.clone())
            .collect();
        self.repo
            .remove_dead_letters(tenant, &done)
            .await
            .map_err(storage("dead letter"))?;
        let left = self.repo.count_dead_letters(tenant).await;
        Ok((outcome, left.map_err(storage("dead letter"))?))
    }
}
