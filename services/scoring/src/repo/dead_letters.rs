//! `dead_letters`: changes ApplyChanges could not apply, kept per tenant with
//! the change as delivered and why, until re-driven. A dead letter whose
//! change has been applied since (delivered again once its cause went away)
//! is no longer listed or counted; re-driving it removes it.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, List, Time},
    in_tx, on_pool, sql_for,
};

use super::ScoreRepo;

/// A change to keep as a dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// Its id (see [`crate::scores::dead_letters`] for changes without a usable one).
    pub change_id: String,
    /// Its customer id as sent.
    pub customer_id: String,
    /// The change as delivered (a prost-encoded `ChangeEvent`).
    pub change: Vec<u8>,
    /// Why it cannot be applied.
    pub reason: String,
}

/// A dead letter as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLetter {
    /// The change and why it was not applied, the last time it was tried.
    pub letter: Letter,
    /// When it first failed.
    pub first_seen_at: DateTime<Utc>,
    /// When it last failed.
    pub last_seen_at: DateTime<Utc>,
    /// Deliveries and re-drives that failed.
    pub attempts: i32,
}

type LetterRow = (String, String, Vec<u8>, String, Time, Time, i32);

fn stored(r: LetterRow) -> StoredLetter {
    let (change_id, customer_id, change, reason, first, last, attempts) = r;
    StoredLetter {
        letter: Letter {
            change_id,
            customer_id,
            change,
            reason,
        },
        first_seen_at: first.0,
        last_seen_at: last.0,
        attempts,
    }
}

impl ScoreRepo {
    /// Keeps `letters` as the tenant's dead letters as of `now`: new ones
    /// added, known ones given the new reason and one more attempt.
    pub async fn dead_letter(
        &self,
        tenant: uuid::Uuid,
        letters: &[Letter],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        if letters.is_empty() {
            return Ok(());
        }
        // Rare and few: a statement per letter, in one transaction.
        in_tx!(&self.db, tx => {
            for l in letters {
                sqlx::query(include_str!("../../sql/dead_letters/record.sql"))
                    .bind(Id(tenant))
                    .bind(&l.change_id)
                    .bind(&l.customer_id)
                    .bind(&l.change)
                    .bind(&l.reason)
                    .bind(Time(now))
                    .execute(&mut *tx)
                    .await?;
            }
        });
        Ok(())
    }

    /// Up to `limit` of the tenant's dead letters by change id, after `after`.
    pub async fn dead_letters(
        &self,
        tenant: uuid::Uuid,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredLetter>, sqlx::Error> {
        let rows: Vec<LetterRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../sql/dead_letters/list.sql"))
                .bind(Id(tenant))
                .bind(after.unwrap_or_default())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(stored).collect())
    }

    /// How many dead letters the tenant has.
    pub async fn count_dead_letters(&self, tenant: uuid::Uuid) -> Result<u64, sqlx::Error> {
        let n: i64 = on_pool!(&self.db, pool => {
            sqlx::query_scalar(include_str!("../../sql/dead_letters/count.sql"))
                .bind(Id(tenant))
                .fetch_one(pool)
                .await?
        });
        Ok(n.max(0) as u64)
    }

    /// How many dead letters each tenant that has any has.
    pub async fn count_dead_letters_by_tenant(
        &self,
    ) -> Result<Vec<(uuid::Uuid, u64)>, sqlx::Error> {
        let rows: Vec<(Id, i64)> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../sql/dead_letters/count_by_tenant.sql"))
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(Id(t), n)| (t, n.max(0) as u64))
            .collect())
    }

    /// The tenant's dead letters to re-drive: those of `ids`, or the first
    /// `limit` by change id when `ids` is empty.
    pub async fn dead_letters_to_redrive(
        &self,
        tenant: uuid::Uuid,
        ids: &[String],
        limit: u32,
    ) -> Result<Vec<StoredLetter>, sqlx::Error> {
        let of_ids = sql_for!(
            &self.db,
            postgres = "SELECT change_id, customer_id, change, reason, first_seen_at, \
                        last_seen_at, attempts FROM dead_letters \
                        WHERE tenant_id = $1 AND change_id = ANY($2) ORDER BY change_id",
            sqlite = "SELECT change_id, customer_id, change, reason, first_seen_at, \
                      last_seen_at, attempts FROM dead_letters \
                      WHERE tenant_id = $1 AND change_id IN (SELECT value FROM json_each($2)) \
                      ORDER BY change_id",
        );
        let rows: Vec<LetterRow> = on_pool!(&self.db, pool => {
            if ids.is_empty() {
                sqlx::query_as(include_str!("../../sql/dead_letters/first.sql"))
                    .bind(Id(tenant))
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await?
            } else {
                sqlx::query_as(of_ids)
                    .bind(Id(tenant))
                    .bind(List(ids))
                    .fetch_all(pool)
                    .await?
            }
        });
        Ok(rows.into_iter().map(stored).collect())
    }

    /// Removes the tenant's dead letters of `ids` (their changes are applied).
    pub async fn remove_dead_letters(
        &self,
        tenant: uuid::Uuid,
        ids: &[String],
    ) -> Result<(), sqlx::Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = sql_for!(
            &self.db,
            postgres = "DELETE FROM dead_letters WHERE tenant_id = $1 AND change_id = ANY($2)",
            sqlite = "DELETE FROM dead_letters WHERE tenant_id = $1 \
                      AND change_id IN (SELECT value FROM json_each($2))",
        );
        on_pool!(&self.db, pool => {
            sqlx::query(sql).bind(Id(tenant)).bind(List(ids)).execute(pool).await?;
        });
        Ok(())
    }
}
