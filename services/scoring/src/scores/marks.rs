//! The marks rules set on a customer (tier override, tags). They travel
//! with the score, so setting them makes a new version of it, published to
//! the cache at once: a cached copy never shows stale marks.

use chrono::Utc;
use uuid::Uuid;

use super::{Scores, assemble};
use crate::{
    error::{Error, storage},
    repo::Marks,
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
        let stored = self
            .repo
            .set_marks(tenant, customer, marks, Utc::now())
            .await
            .map_err(storage("score"))?;
        if let Some(s) = stored {
            self.cache.publish(tenant, &[assemble::stored(&s)]).await;
        }
        Ok(())
    }
}
