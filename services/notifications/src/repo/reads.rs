//! Reading notifications back: by dedupe key, one with its attempts, and
//! newest-first pages.

use rapport_kit::{
    db::{Id, Time},
    on_pool,
};
use uuid::Uuid;

use super::{
    Cursor, Repository,
    rows::{attempt, notification},
};
use crate::{
    error::Error,
    model::{Attempt, Notification},
};

pub(super) const BY_DEDUPE_KEY: &str = include_str!("../../sql/by_dedupe_key.sql");

impl Repository {
    /// The notification stored under `dedupe_key`, if any.
    pub async fn by_dedupe_key(
        &self,
        tenant: Uuid,
        dedupe_key: &str,
    ) -> Result<Option<Notification>, Error> {
        on_pool!(&self.db, pool => {
            let row = sqlx::query(BY_DEDUPE_KEY)
                .bind(Id(tenant))
                .bind(dedupe_key)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(notification).transpose()
        })
    }

    /// A notification of `tenant` with its attempts, oldest attempt first.
    pub async fn get(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> Result<Option<(Notification, Vec<Attempt>)>, Error> {
        on_pool!(&self.db, pool => {
            let Some(row) = sqlx::query(include_str!("../../sql/get.sql"))
                .bind(Id(tenant))
                .bind(Id(id))
                .fetch_optional(pool)
                .await?
            else {
                return Ok(None);
            };
            let n = notification(&row)?;
            let rows = sqlx::query(include_str!("../../sql/attempts.sql"))
                .bind(Id(tenant))
                .bind(Id(n.customer_id))
                .bind(Id(n.id))
                .fetch_all(pool)
                .await?;
            let attempts = rows.iter().map(attempt).collect::<Result<_, _>>()?;
            Ok(Some((n, attempts)))
        })
    }

    /// Up to `limit` notifications of `tenant` (of one customer if given),
    /// newest first, strictly after `after` in that order.
    pub async fn list(
        &self,
        tenant: Uuid,
        customer: Option<Uuid>,
        after: Cursor,
        limit: u32,
    ) -> Result<Vec<Notification>, Error> {
        on_pool!(&self.db, pool => {
            let query = match customer {
                Some(c) => sqlx::query(include_str!("../../sql/list_customer.sql"))
                    .bind(Id(tenant))
                    .bind(Id(c)),
                None => sqlx::query(include_str!("../../sql/list.sql")).bind(Id(tenant)),
            };
            let rows = query
                .bind(Time(after.created_at))
                .bind(Id(after.id))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(notification).collect()
        })
    }
}
