//! The marks rules set on a customer (tier override, tags). They travel
//! with the score, so setting them makes a new version of it, published to
//! the cache at once: a cached copy never shows stale marks. A tier they
//! change is a change feed event, written with them.

use chrono::Utc;
use rapport_kit::domain::CurrencyCode;
use uuid::Uuid;

use super::{Scores, assemble};
use crate::{
    error::{Error, storage},
    feed,
    repo::{Marks, StoredScore},
};

impl Scores {
    /// Stores `marks` for `customer` and publishes the score they change
    /// (nothing to publish for a customer without a score).
    pub async fn set_marks(
        &self,
        tenant: Uuid,
        customer: Uuid,
        marks: &Marks,
    ) -> Result<(), Error> {
        let now = Utc::now();
        let state = self.states.get(tenant).await?;
        // The score's own currency: rules hold the tenant's id only.
        let log = |old: &[StoredScore], new: &[StoredScore]| match new
            .first()
            .and_then(|s| CurrencyCode::parse(&s.row.currency_code).ok())
        {
            Some(currency) if self.feed => feed::log_rows(&state, currency, old, new, now),
            _ => Vec::new(),
        };
        let stored = self
            .repo
            .set_marks(tenant, customer, marks, now, &log)
            .await
            .map_err(storage("score"))?;
        if let Some(s) = stored {
            self.cache.publish(tenant, &[assemble::stored(&s)]).await;
        }
        Ok(())
    }
}
