//! Monthly partitions of `transactions` (Postgres), created ahead of time by
//! a background task of the service and never while a batch is written: the DDL
//! locks `transactions` against every writer, and a batch dated decades back
//! used to create one partition per month it spanned. A row of a month with no
//! partition of its own (older than the window kept ready) lands in the
//! default partition, which keeps it as durably as any other: a retryable
//! error instead would refuse accepted history until someone made partitions
//! by hand.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Utc};
use rapport_kit::Db;
use sqlx::PgPool;

use super::Repo;

/// Advisory lock serialising partition DDL across replicas (an arbitrary
/// constant private to this service).
const PARTITION_LOCK: i64 = 0x0049_4e47_5041_5254;

/// Months after the current one that get their partition ahead of time: a
/// transaction may be dated up to a day ahead, and the next month must exist
/// before its first row arrives.
const MONTHS_AHEAD: i32 = 2;

/// `check_violation`: the default partition already holds rows of the month.
const DEFAULT_HOLDS_ROWS: &str = "23514";

impl Repo {
    /// Makes sure every month from `back` months before `now`'s to
    /// [`MONTHS_AHEAD`] after it has its partition. Months already made are
    /// remembered, so the steady state issues no statement at all.
    pub(crate) async fn ensure_partitions(
        &self,
        now: DateTime<Utc>,
        back: u32,
    ) -> Result<(), sqlx::Error> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(());
        };
        // Month indexes are about 24 000 now and `back` is at most 240
        // (validated with the config), far from i32's ends.
        let current = month_index(now);
        let missing: Vec<i32> = {
            let known = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
            (current - back as i32..=current + MONTHS_AHEAD)
                .filter(|m| !known.contains(m))
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let existing: HashSet<String> =
            sqlx::query_scalar(include_str!("../../sql/postgres/partition_names.sql"))
                .fetch_all(pool)
                .await?
                .into_iter()
                .collect();
        let mut created = 0;
        for month in &missing {
            if !existing.contains(&partition_name(*month)) {
                create_partition(pool, *month).await?;
                created += 1;
            }
            self.partitions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(*month);
        }
        if created > 0 {
            tracing::info!(created, "transaction partitions created ahead of time");
        }
        Ok(())
    }
}

impl Repo {
    /// Whether the partitions of `now`'s month and the next are known to
    /// exist (always on SQLite, which has none).
    pub(crate) fn partitions_ready(&self, now: DateTime<Utc>) -> bool {
        if !matches!(self.db, Db::Postgres(_)) {
            return true;
        }
        let current = month_index(now);
        let known = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
        known.contains(&current) && known.contains(&(current + 1))
    }
}

/// Creates the partition of `month` in its own short transaction, waiting
/// at most a moment for the lock so that writers never queue behind it long.
async fn create_partition(pool: &PgPool, month: i32) -> Result<(), sqlx::Error> {
    let mut tx = rapport_kit::db::ddl::partition_transaction(pool, PARTITION_LOCK).await?;
    match sqlx::query(&partition_ddl(month)).execute(&mut *tx).await {
        Ok(_) => tx.commit().await,
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(DEFAULT_HOLDS_ROWS) => {
            // Rows of this month came in before it had a partition; the
            // default partition keeps them, and the month stays there.
            tracing::warn!(
                partition = partition_name(month),
                "rows of this month are in the default partition; not creating it"
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Months counted from year 0, so consecutive months differ by one.
fn month_index(t: DateTime<Utc>) -> i32 {
    t.year() * 12 + t.month0() as i32
}

/// The name of month `m`'s partition (a [`month_index`]): `transactions_pYYYYMM`.
fn partition_name(m: i32) -> String {
    format!(
        "transactions_p{:04}{:02}",
        m.div_euclid(12),
        m.rem_euclid(12) + 1
    )
}

/// The partition of month `m`, covering the calendar month in UTC.
fn partition_ddl(m: i32) -> String {
    let start = |m: i32| {
        format!(
            "{:04}-{:02}-01 00:00:00+00",
            m.div_euclid(12),
            m.rem_euclid(12) + 1
        )
    };
    include_str!("../../sql/postgres/create_partition.sql")
        .replace("{name}", &partition_name(m))
        .replace("{from}", &start(m))
        .replace("{to}", &start(m + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn december_rolls_into_the_next_year() {
        let t = Utc.with_ymd_and_hms(2024, 12, 31, 23, 59, 59).unwrap();
        let ddl = partition_ddl(month_index(t));
        assert!(
            ddl.contains("transactions_p202412 PARTITION OF transactions"),
            "{ddl}"
        );
        assert!(
            ddl.contains("FROM ('2024-12-01 00:00:00+00') TO ('2025-01-01 00:00:00+00')"),
            "{ddl}"
        );
        let jan = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap();
        assert!(partition_ddl(month_index(jan)).contains("transactions_p197001"));
    }
}
