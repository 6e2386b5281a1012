//! What rules set on a customer (`customer_marks`). The marks travel inside
//! the versioned cached score, so setting them bumps the score's version.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, List, Time},
    in_tx, sql_for,
};
use uuid::Uuid;

use super::{
    ScoreRepo,
    changes::Log,
    details,
    rows::{Marks, StoredScore},
};
use crate::feed::Record;

impl ScoreRepo {
    /// Stores the marks rules set on `customer` and bumps its score's
    /// version in the same transaction, so the cached score is replaced;
    /// returns the score to publish (`None` for a customer without one).
    /// The change feed's rows `log` makes of the score before and after are
    /// written in the same transaction.
    pub async fn set_marks(
        &self,
        tenant: Uuid,
        customer: Uuid,
        marks: &Marks,
        now: DateTime<Utc>,
        log: &Log<'_>,
    ) -> Result<Option<StoredScore>, sqlx::Error> {
        let tags =
            serde_json::to_string(&marks.tags).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let read_back = details::by_ids(&self.db);
        // Locked before the old score is read, as ApplyChanges does.
        let lock = sql_for!(
            &self.db,
            postgres = "SELECT customer_id FROM customer_scores \
                        WHERE tenant_id = $1 AND customer_id = $2 FOR UPDATE",
            sqlite = "SELECT customer_id FROM customer_scores \
                      WHERE tenant_id = $1 AND customer_id = $2",
        );
        let score = in_tx!(&self.db, tx => {
            sqlx::query(lock)
                .bind(Id(tenant))
                .bind(Id(customer))
                .execute(&mut *tx)
                .await?;
            let old: Vec<StoredScore> = sqlx::query_as(&read_back)
                .bind(Id(tenant))
                .bind(List(&[customer][..]))
                .fetch_all(&mut *tx)
                .await?;
            // customer_marks keeps ids as text on both backends, like the rules tables.
            sqlx::query(include_str!("../../sql/rules/upsert_marks.sql"))
                .bind(Id(tenant))
                .bind(Id(customer))
                .bind(&marks.tier)
                .bind(&marks.origin)
                .bind(&tags)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE customer_scores SET version = version + 1, updated_at = $3 \
                 WHERE tenant_id = $1 AND customer_id = $2",
            )
            .bind(Id(tenant))
            .bind(Id(customer))
            .bind(Time(now))
            .execute(&mut *tx)
            .await?;
            let new: Option<StoredScore> = sqlx::query_as(&read_back)
                .bind(Id(tenant))
                .bind(List(&[customer][..]))
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(s) = &new {
                tx.record(tenant, &log(&old, std::slice::from_ref(s))).await?;
            }
            new
        });
        Ok(score)
    }
}
