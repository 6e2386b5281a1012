//! Storage of the population figures: the stored answers
//! (`population_figures`, on the primary) and the short reads of
//! `customer_scores` that compute them (on the reader, a replica when one is
//! configured; one query per page, no transaction spans them).

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, Time},
    on_pool,
};
use uuid::Uuid;

use super::Kind;

/// One stored answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFigures {
    /// When the scores were read.
    pub as_of: DateTime<Utc>,
    /// Customers counted.
    pub customers: i64,
    /// How long the computation took, in milliseconds.
    pub duration_ms: i64,
    /// The encoded response.
    pub response: Vec<u8>,
}

/// One row of a summary page: customer, first and last purchase, net spend.
pub type SummaryRow = (Id, Option<Time>, Option<Time>, i64);

/// The population figures' tables.
#[derive(Debug, Clone)]
pub struct FiguresRepo {
    db: Db,
    /// Where `customer_scores` is read: a replica, or `db` itself.
    reader: Db,
}

impl FiguresRepo {
    /// Stored figures on `db`, scores read from `reader`.
    pub fn new(db: Db, reader: Db) -> Self {
        FiguresRepo { db, reader }
    }

    /// The tenant's scores counted up to `upto`: at most `upto` index
    /// entries read.
    pub async fn count_upto(&self, tenant: Uuid, upto: i64) -> sqlx::Result<i64> {
        on_pool!(&self.reader, pool => {
            sqlx::query_scalar(include_str!("../../sql/figures/count_upto.sql"))
                .bind(Id(tenant))
                .bind(upto)
                .fetch_one(pool)
                .await
        })
    }

    /// How many scores follow `after` in customer order, up to `limit`, and
    /// the last of them; `None` past the end.
    pub async fn count_page(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> sqlx::Result<Option<(i64, Uuid)>> {
        let (n, last): (i64, Option<String>) = on_pool!(&self.reader, pool => {
            sqlx::query_as(include_str!("../../sql/figures/count_page.sql"))
                .bind(Id(tenant))
                .bind(after.map(Id))
                .bind(limit)
                .fetch_one(pool)
                .await?
        });
        let last = last.map(|l| l.parse::<Uuid>());
        match last {
            Some(Ok(last)) if n > 0 => Ok(Some((n, last))),
            Some(Err(e)) => Err(sqlx::Error::Decode(Box::new(e))),
            _ => Ok(None),
        }
    }

    /// The smallest and largest net spend; `None` without scores.
    pub async fn net_bounds(&self, tenant: Uuid) -> sqlx::Result<Option<(i64, i64)>> {
        let (min, max): (Option<i64>, Option<i64>) = on_pool!(&self.reader, pool => {
            sqlx::query_as(include_str!("../../sql/figures/net_bounds.sql"))
                .bind(Id(tenant))
                .fetch_one(pool)
                .await?
        });
        Ok(min.zip(max))
    }

    /// Up to `limit` scores in ascending (net spend, customer) order after
    /// `after`.
    pub async fn summary_page(
        &self,
        tenant: Uuid,
        after: Option<(i64, Uuid)>,
        limit: i64,
    ) -> sqlx::Result<Vec<SummaryRow>> {
        on_pool!(&self.reader, pool => {
            match after {
                None => sqlx::query_as(include_str!("../../sql/figures/summary_first.sql"))
                    .bind(Id(tenant))
                    .bind(limit)
                    .fetch_all(pool)
                    .await,
                Some((net, customer)) => {
                    sqlx::query_as(include_str!("../../sql/figures/summary_after.sql"))
                        .bind(Id(tenant))
                        .bind(net)
                        .bind(Id(customer))
                        .bind(limit)
                        .fetch_all(pool)
                        .await
                }
            }
        })
    }

    /// The tenant's stored figures of `kind`; `None` before the first.
    pub async fn get(&self, tenant: Uuid, kind: Kind) -> sqlx::Result<Option<StoredFigures>> {
        let row: Option<(Time, i64, i64, Vec<u8>)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT as_of, customers, duration_ms, response FROM population_figures \
                 WHERE tenant_id = $1 AND kind = $2",
            )
            .bind(Id(tenant))
            .bind(kind.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(
            row.map(|(as_of, customers, duration_ms, response)| StoredFigures {
                as_of: as_of.0,
                customers,
                duration_ms,
                response,
            }),
        )
    }

    /// Stores (or replaces) the tenant's figures of `kind`.
    pub async fn put(&self, tenant: Uuid, kind: Kind, f: &StoredFigures) -> sqlx::Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../sql/figures/put.sql"))
                .bind(Id(tenant))
                .bind(kind.as_str())
                .bind(Time(f.as_of))
                .bind(f.customers)
                .bind(f.duration_ms)
                .bind(&f.response)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Tenants whose figures may be due at a read before `stale`, those
    /// never stored first, then the oldest.
    pub async fn due(&self, stale: DateTime<Utc>) -> sqlx::Result<Vec<Uuid>> {
        let rows: Vec<(Id,)> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../sql/figures/due.sql"))
                .bind(Time(stale))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|(t,)| t.0).collect())
    }
}
