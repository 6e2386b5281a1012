//! `applied_changes`' retention storage. Postgres: one partition per day
//! (`applied_changes_dYYYYMMDD`) made ahead and dropped whole past the
//! window, and the sentinel day's partition (`applied_changes_legacy`)
//! trimmed by `applied_at`; the DDL serialised across replicas on an
//! advisory lock and waiting at most a moment for its table locks, so
//! ApplyChanges never queues behind it for long. SQLite: one table, old
//! days and old sentinel rows deleted in bounded batches.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rapport_kit::{
    Db,
    db::{Time, ddl::partition_transaction},
};
use sqlx::{Postgres, Transaction};

use super::day;

/// Advisory lock serialising the partitions' DDL across replicas (an
/// arbitrary constant private to this service).
const PARTITION_LOCK: i64 = 0x0053_434f_4444_5550;

/// Prefix of a day partition's name, followed by the day as YYYYMMDD.
const DAY_PREFIX: &str = "applied_changes_d";

/// Most old days' rows one SQLite pass deletes (Postgres drops them whole).
const SQLITE_DAY_BATCH: i64 = 10_000;

/// Whether `e` is Postgres refusing a row of a day with no partition
/// (`check_violation`, "no partition of relation ... found for row"): a
/// missing partition, not bad data, so the apply makes it and tries again.
pub fn missing_partition(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23514") && db.message().starts_with("no partition of")
        }
        _ => false,
    }
}

/// The dedupe table's retention statements.
#[derive(Debug, Clone)]
pub struct DedupeRepo {
    db: Db,
}

impl DedupeRepo {
    /// Over the service's primary store.
    pub fn new(db: Db) -> Self {
        DedupeRepo { db }
    }

    /// Makes the partitions of `days` that do not exist yet (Postgres; on
    /// SQLite there are none): how many were made.
    pub async fn create_days(&self, days: &[NaiveDate]) -> sqlx::Result<usize> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(0);
        };
        let mut tx = partition_transaction(pool, PARTITION_LOCK).await?;
        let existing = partitions(&mut tx).await?;
        let mut created = 0;
        for d in days.iter().filter(|d| **d != day::SENTINEL) {
            if existing.contains(&partition_name(*d)) {
                continue;
            }
            // A table of its own, then attached: ATTACH takes only a SHARE
            // UPDATE EXCLUSIVE lock on the parent (no DEFAULT partition to
            // scan), which inserts do not wait for; CREATE ... PARTITION OF
            // would take an ACCESS EXCLUSIVE one.
            let name = partition_name(*d);
            let ddl = format!(
                "CREATE TABLE {name} (LIKE applied_changes INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            );
            sqlx::query(&ddl).execute(&mut *tx).await?;
            let (from, to) = (
                d.format("%Y-%m-%d"),
                (*d + TimeDelta::days(1)).format("%Y-%m-%d"),
            );
            let attach = format!(
                "ALTER TABLE applied_changes ATTACH PARTITION {name} \
                 FOR VALUES FROM ('{from}') TO ('{to}')"
            );
            sqlx::query(&attach).execute(&mut *tx).await?;
            created += 1;
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Deletes what is kept under days before `first_kept` (never the
    /// sentinel day): on Postgres each such day's partition detached and
    /// dropped, each in its own short transaction; on SQLite a bounded
    /// batch of rows. How many partitions (rows) went.
    pub async fn drop_days_before(&self, first_kept: NaiveDate) -> sqlx::Result<usize> {
        // First the horizon, so no change of a day about to go is admitted
        // later, whatever window a later configuration sets.
        self.forget_before(first_kept).await?;
        let pool = match &self.db {
            Db::Postgres(pool) => pool,
            Db::Sqlite(pool) => {
                let done = sqlx::query(include_str!("../../sql/dedupe/sqlite_drop_days.sql"))
                    .bind(day::number(first_kept))
                    .bind(SQLITE_DAY_BATCH)
                    .execute(pool)
                    .await?;
                return Ok(done.rows_affected() as usize);
            }
        };
        let mut tx = pool.begin().await?;
        let old: Vec<String> = partitions(&mut tx)
            .await?
            .into_iter()
            .filter(|n| partition_day(n).is_some_and(|d| d < first_kept))
            .collect();
        tx.rollback().await?;
        let mut dropped = 0;
        for name in &old {
            // DETACH takes an ACCESS EXCLUSIVE lock on the parent: it waits
            // for the applies in flight and holds new ones back for as long
            // as it waits, at most the lock timeout; the next pass tries
            // again.
            let mut tx = partition_transaction(pool, PARTITION_LOCK).await?;
            if !partitions(&mut tx).await?.contains(name) {
                continue;
            }
            sqlx::query(&format!(
                "ALTER TABLE applied_changes DETACH PARTITION {name}"
            ))
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!("DROP TABLE {name}"))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            dropped += 1;
        }
        Ok(dropped)
    }

    /// Raises the horizon to `day`: rows of earlier days may be gone.
    async fn forget_before(&self, day: NaiveDate) -> sqlx::Result<()> {
        match &self.db {
            Db::Postgres(pool) => {
                sqlx::query(
                    "INSERT INTO dedupe_horizon (singleton, forgotten_before) VALUES (true, $1) \
                     ON CONFLICT (singleton) DO UPDATE SET forgotten_before = EXCLUDED.forgotten_before \
                     WHERE dedupe_horizon.forgotten_before < EXCLUDED.forgotten_before",
                )
                .bind(day)
                .execute(pool)
                .await?;
            }
            Db::Sqlite(pool) => {
                sqlx::query(
                    "INSERT INTO dedupe_horizon (singleton, forgotten_before) VALUES (1, $1) \
                     ON CONFLICT (singleton) DO UPDATE SET forgotten_before = excluded.forgotten_before \
                     WHERE dedupe_horizon.forgotten_before < excluded.forgotten_before",
                )
                .bind(day::number(day))
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    /// The horizon: rows of days before it may be gone. `None` before the
    /// first retention pass.
    pub async fn forgotten_before(&self) -> sqlx::Result<Option<NaiveDate>> {
        Ok(match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_scalar("SELECT forgotten_before FROM dedupe_horizon")
                    .fetch_optional(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                let n: Option<i64> =
                    sqlx::query_scalar("SELECT forgotten_before FROM dedupe_horizon")
                        .fetch_optional(pool)
                        .await?;
                n.and_then(|n| day::SENTINEL.checked_add_signed(TimeDelta::days(n)))
            }
        })
    }

    /// Deletes at most `batch` rows of the sentinel day applied before
    /// `before`: how many.
    pub async fn trim_sentinel(&self, before: DateTime<Utc>, batch: u32) -> sqlx::Result<usize> {
        let done = match &self.db {
            Db::Postgres(pool) => {
                sqlx::query(include_str!("../../sql/dedupe/pg_trim_sentinel.sql"))
                    .bind(day::SENTINEL)
                    .bind(before)
                    .bind(batch as i64)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
            Db::Sqlite(pool) => {
                sqlx::query(include_str!("../../sql/dedupe/sqlite_trim_sentinel.sql"))
                    .bind(day::number(day::SENTINEL))
                    .bind(Time(before))
                    .bind(batch as i64)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
        };
        Ok(done as usize)
    }
}

/// The names of `applied_changes`' partitions.
async fn partitions(tx: &mut Transaction<'static, Postgres>) -> sqlx::Result<HashSet<String>> {
    let names: Vec<String> = sqlx::query_scalar(include_str!("../../sql/dedupe/pg_partitions.sql"))
        .fetch_all(&mut **tx)
        .await?;
    Ok(names.into_iter().collect())
}

/// The partition of day `d`: `applied_changes_dYYYYMMDD`.
pub fn partition_name(d: NaiveDate) -> String {
    format!("{DAY_PREFIX}{}", d.format("%Y%m%d"))
}

/// The day of a day partition's name; `None` for any other table.
fn partition_day(name: &str) -> Option<NaiveDate> {
    let digits = name.strip_prefix(DAY_PREFIX)?;
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_round_trip() {
        let d = NaiveDate::from_ymd_opt(2025, 1, 9).unwrap();
        assert_eq!(partition_name(d), "applied_changes_d20250109");
        assert_eq!(partition_day(&partition_name(d)), Some(d));
        assert_eq!(partition_day("applied_changes_legacy"), None);
    }
}
