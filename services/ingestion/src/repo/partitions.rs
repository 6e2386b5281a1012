//! Monthly partitions of `transactions` (Postgres), created on demand before
//! a batch is written.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Utc};
use sqlx::PgPool;

use super::Repo;

/// Advisory lock serialising partition DDL across replicas (an arbitrary
/// constant private to this service).
const PARTITION_LOCK: i64 = 0x0049_4e47_5041_5254;

impl Repo {
    /// Makes sure a partition exists for the month of every time in `times`.
    /// Runs in its own short transaction before the batch's: the DDL takes a
    /// strong lock on `transactions`, which must not be held for a whole
    /// batch, nor requested by a transaction already inserting into it.
    pub(super) async fn ensure_partitions(
        &self,
        pool: &PgPool,
        times: impl Iterator<Item = DateTime<Utc>>,
    ) -> Result<(), sqlx::Error> {
        let months: BTreeSet<i32> = times.map(month_index).collect();
        let missing: Vec<i32> = {
            let known = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
            months.into_iter().filter(|m| !known.contains(m)).collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PARTITION_LOCK)
            .execute(&mut *tx)
            .await?;
        for month in &missing {
            sqlx::query(&partition_ddl(*month))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::debug!(months = missing.len(), "transaction partitions ensured");
        self.partitions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(missing);
        Ok(())
    }
}

/// Months counted from year 0, so consecutive months differ by one.
fn month_index(t: DateTime<Utc>) -> i32 {
    t.year() * 12 + t.month0() as i32
}

/// The partition of month `m` (a [`month_index`]): `transactions_pYYYYMM`,
/// covering the calendar month in UTC.
fn partition_ddl(m: i32) -> String {
    let start = |m: i32| {
        format!(
            "{:04}-{:02}-01 00:00:00+00",
            m.div_euclid(12),
            m.rem_euclid(12) + 1
        )
    };
    let name = format!(
        "transactions_p{:04}{:02}",
        m.div_euclid(12),
        m.rem_euclid(12) + 1
    );
    include_str!("../../sql/postgres/create_partition.sql")
        .replace("{name}", &name)
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
