//! Population figures over every score of a tenant, read in one snapshot.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use rapport_kit::{
    Db,
    db::{Id, Time},
    in_tx,
};
use uuid::Uuid;

use super::ScoreRepo;
use crate::aggregates::{figures, summary::Summary};

impl ScoreRepo {
    /// Population figures as of `now`. Reads every score of the tenant (in
    /// net-spend order, streamed, so memory stays flat): O(customers) per call.
    pub async fn summarize(
        &self,
        tenant: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Summary, sqlx::Error> {
        let summary = in_tx!(&self.reader, tx => {
            // One snapshot for both reads, so the count matches the rows
            // streamed; SQLite's transaction is one already.
            if let Db::Postgres(_) = &self.reader {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
            }
            let (n, min, max): (i64, i64, i64) =
                sqlx::query_as(include_str!("../../sql/summary_bounds.sql"))
                    .bind(Id(tenant))
                    .fetch_one(&mut *tx)
                    .await?;
            let mut summary = Summary::new(n.max(0) as u64, min, max);
            let mut rows = sqlx::query_as::<_, (Option<Time>, Option<Time>, i64)>(
                include_str!("../../sql/summary_rows.sql"),
            )
            .bind(Id(tenant))
            .fetch(&mut *tx);
            while let Some((first, last, net)) = rows.try_next().await? {
                summary.add(net, figures::segment(first.map(|t| t.0), last.map(|t| t.0), now));
            }
            summary.finish()
        });
        Ok(summary)
    }

    /// The number of scores the tenant has, on the reader.
    pub async fn count(&self, tenant: Uuid) -> Result<i64, sqlx::Error> {
        rapport_kit::on_pool!(&self.reader, pool => {
            sqlx::query_scalar("SELECT count(*) FROM customer_scores WHERE tenant_id = $1")
                .bind(Id(tenant))
                .fetch_one(pool)
                .await
        })
    }
}
