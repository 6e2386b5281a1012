//! Reads of many scores: ListScores pages in an order, SummarizeScores
//! figures, and the tenant's stored scores page by page for the passes over
//! every customer (population, equity, rules).

use chrono::{DateTime, Utc};
use rapport_kit::tenants::Tenant;
use rapport_proto::v1::Score;
use uuid::Uuid;

use crate::{
    aggregates::summary::Summary,
    error::{Error, storage},
    repo::{Cursor, Order, StoredScore},
    scores::{Scores, assemble},
};

impl Scores {
    /// Up to `size` scores in `order` after `after`, finished and enriched
    /// as of now, and the cursor of the last one when another page follows.
    pub async fn list(
        &self,
        tenant: &Tenant,
        order: Order,
        after: Option<Cursor>,
        size: u32,
    ) -> Result<(Vec<Score>, Option<Cursor>), Error> {
        // One row more than the page tells whether another page follows.
        let mut rows = self
            .repo
            .list(tenant.id, order, after, size + 1)
            .await
            .map_err(storage("score"))?;
        let next = if rows.len() > size as usize {
            rows.truncate(size as usize);
            rows.last().map(|s| Cursor {
                value: order.value_of(&s.row),
                customer_id: s.row.customer_id,
            })
        } else {
            None
        };
        let mut scores: Vec<_> = rows.iter().map(assemble::stored).collect();
        self.complete(tenant, &mut scores, Utc::now()).await?;
        Ok((scores, next))
    }

    /// The tenant's population figures as of `now`, in one snapshot:
    /// O(customers), for a tenant small enough to read in a request.
    pub async fn summarize(&self, tenant: Uuid, now: DateTime<Utc>) -> Result<Summary, Error> {
        self.repo
            .summarize(tenant, now)
            .await
            .map_err(storage("score"))
    }

    /// Up to `limit` stored scores in customer id order after `after`: one
    /// page of a pass over every customer of the tenant.
    pub async fn page(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<StoredScore>, Error> {
        self.repo
            .page(tenant, after, limit)
            .await
            .map_err(storage("score"))
    }

    /// Up to `limit` stored scores in customer id order from `from` to
    /// `last`, both included: one page of a pass over a range of ids.
    pub async fn page_between(
        &self,
        tenant: Uuid,
        from: Uuid,
        last: Uuid,
        limit: u32,
    ) -> Result<Vec<StoredScore>, Error> {
        self.repo
            .page_between(tenant, from, last, limit)
            .await
            .map_err(storage("score"))
    }

    /// The tenant's first `limit` customer ids in id order.
    pub async fn first_ids(&self, tenant: Uuid, limit: u32) -> Result<Vec<Uuid>, Error> {
        self.repo
            .first_ids(tenant, limit)
            .await
            .map_err(storage("score"))
    }
}
