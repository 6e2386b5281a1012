//! The steps of a batch write, whose algorithm differs per backend: Postgres
//! runs each step as one statement over column arrays (`UNNEST`), SQLite as a
//! statement per row on its one connection, where a round trip costs nothing.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rapport_kit::db::{Id, Time};
use sqlx::{PgConnection, SqliteConnection};
use uuid::Uuid;

use super::outbox::NOTIFY_CHANNEL;
use crate::validate::Row;

/// A kind of row stored in batches (transactions, events): deduplicated by
/// (source, external id) in a key table, announced through the outbox.
pub(crate) trait Table: Sized + Sync {
    /// The statement claiming keys, on Postgres for a batch (`$2` sources,
    /// `$3` external ids, `$4` ids) returning the new ids, on SQLite for one
    /// key (`$2`, `$3`, `$4`).
    const CLAIM_KEYS: (&'static str, &'static str);

    /// The encoded change scoring is told about.
    fn change(row: &Row<Uuid, Self>) -> Vec<u8>;

    /// Inserts the rows in one statement.
    async fn insert_postgres(
        c: &mut PgConnection,
        tenant: Uuid,
        rows: &[&Row<Uuid, Self>],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error>;

    /// Inserts one row.
    async fn insert_sqlite(
        c: &mut SqliteConnection,
        tenant: Uuid,
        row: &Row<Uuid, Self>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error>;
}

/// A connection, inside the batch's transaction, that runs the steps.
pub(crate) trait Batch {
    /// Claims the (source, external id) keys of `rows`; returns the ids of
    /// rows whose key was new.
    async fn claim_keys<T: Table>(
        &mut self,
        tenant: Uuid,
        rows: &[Row<Uuid, T>],
    ) -> Result<HashSet<Uuid>, sqlx::Error>;

    /// Inserts the rows.
    async fn insert<T: Table>(
        &mut self,
        tenant: Uuid,
        rows: &[&Row<Uuid, T>],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error>;

    /// Queues one change per row, in row order, so the relay delivers a
    /// customer's changes in the order they were accepted.
    async fn queue_changes<T: Table>(
        &mut self,
        tenant: Uuid,
        rows: &[&Row<Uuid, T>],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error>;
}

impl Batch for PgConnection {
    async fn claim_keys<T: Table>(
        &mut self,
        tenant: Uuid,
        rows: &[Row<Uuid, T>],
    ) -> Result<HashSet<Uuid>, sqlx::Error> {
        // Sorted, so two batches sharing keys lock them in the same order and
        // cannot deadlock.
        let mut keys: Vec<(&str, &str, Uuid)> = rows
            .iter()
            .map(|r| (r.source.as_str(), r.external_id.as_str(), r.id))
            .collect();
        keys.sort_unstable();
        let new: Vec<Uuid> = sqlx::query_scalar(T::CLAIM_KEYS.0)
            .bind(tenant)
            .bind(keys.iter().map(|k| k.0).collect::<Vec<_>>())
            .bind(keys.iter().map(|k| k.1).collect::<Vec<_>>())
            .bind(keys.iter().map(|k| k.2).collect::<Vec<_>>())
            .fetch_all(self)
            .await?;
        Ok(new.into_iter().collect())
    }

    async fn insert<T: Table>(
        &mut self,
        tenant: Uuid,
        rows: &[&Row<Uuid, T>],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        T::insert_postgres(self, tenant, rows, now).await
    }

    async fn queue_changes<T: Table>(
        &mut self,
        tenant: Uuid,
        rows: &[&Row<Uuid, T>],
        _now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(include_str!("../../sql/postgres/insert_outbox.sql"))
            .bind(tenant)
            .bind(rows.iter().map(|r| r.customer).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| T::change(r)).collect::<Vec<_>>())
            .execute(&mut *self)
            .await?;
        // Relays on other replicas are woken on commit.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(NOTIFY_CHANNEL)
            .execute(self)
            .await
            .map(drop)
    }
}

impl Batch for SqliteConnection {
    async fn claim_keys<T: Table>(
        &mut self,
        tenant: Uuid,
        rows: &[Row<Uuid, T>],
    ) -> Result<HashSet<Uuid>, sqlx::Error> {
        let mut new = HashSet::new();
        for r in rows {
            let done = sqlx::query(T::CLAIM_KEYS.1)
                .bind(Id(tenant))
                .bind(&r.source)
                .bind(&r.external_id)
                .bind(Id(r.id))
                .execute(&mut *self)
                .await?;
            if done.rows_affected() == 1 {
                new.insert(r.id);
            }
        }
        Ok(new)
    }

    async fn insert<T: Table>(
        &mut self,
        tenant: Uuid,
        rows: &[&Row<Uuid, T>],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        for row in rows {
            T::insert_sqlite(self, tenant, row, now).await?;
        }
        Ok(())
    }

    async fn queue_changes<T: Table>(
        &mut self,
        tenant: Uuid,
        rows: &[&Row<Uuid, T>],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        for row in rows {
            sqlx::query(include_str!("../../sql/sqlite/insert_outbox.sql"))
                .bind(Id(tenant))
                .bind(Id(row.customer))
                .bind(T::change(row))
                .bind(Time(now))
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }
}
