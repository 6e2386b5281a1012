//! The batch write, whose algorithm differs per backend: claim the rows'
//! dedupe keys, refuse the new rows that would take their customer's total
//! past its bound, insert the rest and queue their outbox changes, as a few
//! `UNNEST` statements on Postgres or row by row on SQLite.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rapport_kit::db::{Id, Time};
use sqlx::{
    PgConnection, Postgres, Sqlite, SqliteConnection, postgres::PgArguments, query::Query,
    sqlite::SqliteArguments,
};
use uuid::Uuid;

use super::{
    outbox::NOTIFY_CHANNEL,
    totals::{Over, Totals, bound},
};
use crate::validate::Row;

/// Encodes the change scoring is told about for a stored row.
pub(crate) type Encode<T> = fn(&Row<Uuid, T>) -> Vec<u8>;

/// A kind of row stored in batches (transactions, events): deduplicated by
/// (source, external id) in a key table, announced through the outbox.
pub(crate) trait Table: Sized + Sync {
    /// What one row is, for errors ("transaction", "event").
    const WHAT: &'static str;

    /// The statement claiming keys, on Postgres for a batch (`$2` sources,
    /// `$3` external ids, `$4` ids) returning the new ids, on SQLite for one
    /// key (`$2`, `$3`, `$4`).
    const CLAIM_KEYS: PerBackend;

    /// The statement reading which keys are taken (`$2` sources, `$3`
    /// external ids, bound as [`List`](rapport_kit::db::List)s), returning
    /// their (source, external id).
    const STORED_KEYS: PerBackend;

    /// The insert, on Postgres of column arrays, on SQLite of one row: `$1`
    /// tenant, `$2` ingestion time, `$3`..`$7` customer, occurred_at, id,
    /// source and external id, then the table's own columns.
    const INSERT: PerBackend;

    /// Encodes the change scoring is told about; `None` for rows scoring
    /// does not take (opportunity events), which queue nothing.
    const CHANGE: Option<Encode<Self>>;

    /// A statement run once in the batch's transaction when it stored rows
    /// (`$1` tenant), so what the rows schedule commits with them.
    const MARK: Option<&'static str> = None;

    /// How rows count toward their customers' bounded totals; `None` for
    /// rows without money.
    const TOTALS: Option<Totals<Self>>;

    /// Binds the table's own columns of `rows`, as arrays.
    fn bind_columns<'q>(query: PgQuery<'q>, rows: &[&'q Row<Uuid, Self>]) -> PgQuery<'q>;

    /// Binds the table's own columns of one row.
    fn bind_values<'q>(query: SqliteQuery<'q>, row: &'q Row<Uuid, Self>) -> SqliteQuery<'q>;
}

/// A statement's text on (Postgres, SQLite).
pub(crate) type PerBackend = (&'static str, &'static str);

/// A [`PerBackend`] statement from `sql/postgres/$postgres.sql` and
/// `sql/sqlite/$sqlite.sql`.
macro_rules! per_backend {
    ($postgres:literal, $sqlite:literal) => {
        (
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/sql/postgres/",
                $postgres,
                ".sql"
            )),
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/sql/sqlite/",
                $sqlite,
                ".sql"
            )),
        )
    };
}
pub(crate) use per_backend;

/// A Postgres statement with some of its parameters bound.
pub(crate) type PgQuery<'q> = Query<'q, Postgres, PgArguments>;
/// A SQLite statement with some of its parameters bound.
pub(crate) type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// One column of `rows`, for binding as an array.
pub(crate) fn column<'a, T, U>(rows: &[&'a T], f: impl Fn(&'a T) -> U) -> Vec<U> {
    rows.iter().map(|r| f(r)).collect()
}

/// A tenant's rows as accepted at `now`.
pub(crate) struct Accepted<'a, T> {
    /// Whose rows.
    pub tenant: Uuid,
    /// The rows, in the order they came.
    pub rows: &'a [Row<Uuid, T>],
    /// When they were accepted.
    pub now: DateTime<Utc>,
}

/// What a batch write did.
#[derive(Debug, Default)]
pub(crate) struct Written {
    /// Rows stored: their key was new and they fit their customer's total.
    pub stored: u32,
    /// New rows refused because their customer's total would pass its
    /// bound; their keys stay free.
    pub over: Vec<Over>,
}

/// A connection, inside the batch's transaction, that writes a batch the
/// way its backend writes best.
pub(crate) trait Batch {
    /// Stores the rows whose (source, external id) key is new for the
    /// tenant and that fit their customer's total, each with its outbox
    /// change (queued in row order, so the relay delivers a customer's
    /// changes in the order they were accepted).
    async fn write<T: Table>(&mut self, batch: Accepted<'_, T>) -> Result<Written, sqlx::Error>;
}

/// One statement per step over column arrays, so a batch costs a fixed
/// number of round trips.
impl Batch for PgConnection {
    async fn write<T: Table>(&mut self, batch: Accepted<'_, T>) -> Result<Written, sqlx::Error> {
        let Accepted { tenant, rows, now } = batch;
        // Keys sorted, so two batches sharing keys lock them in the same
        // order and cannot deadlock.
        let mut keys: Vec<&Row<Uuid, T>> = rows.iter().collect();
        keys.sort_unstable_by_key(|r| (r.source.as_str(), r.external_id.as_str(), r.id));
        let new: HashSet<Uuid> = sqlx::query_scalar(T::CLAIM_KEYS.0)
            .bind(tenant)
            .bind(column(&keys, |r| r.source.as_str()))
            .bind(column(&keys, |r| r.external_id.as_str()))
            .bind(column(&keys, |r| r.id))
            .fetch_all(&mut *self)
            .await?
            .into_iter()
            .collect();
        let fresh: Vec<&Row<Uuid, T>> = rows.iter().filter(|r| new.contains(&r.id)).collect();
        let (fresh, over) = bound(&mut *self, tenant, fresh).await?;
        if fresh.is_empty() {
            return Ok(Written { stored: 0, over });
        }
        let insert = sqlx::query(T::INSERT.0)
            .bind(tenant)
            .bind(now)
            .bind(column(&fresh, |r| r.customer))
            .bind(column(&fresh, |r| r.occurred_at))
            .bind(column(&fresh, |r| r.id))
            .bind(column(&fresh, |r| r.source.as_str()))
            .bind(column(&fresh, |r| r.external_id.as_str()));
        T::bind_columns(insert, &fresh).execute(&mut *self).await?;
        if let Some(mark) = T::MARK {
            sqlx::query(mark).bind(tenant).execute(&mut *self).await?;
        }
        let Some(change) = T::CHANGE else {
            return Ok(Written {
                stored: fresh.len() as u32,
                over,
            });
        };
        sqlx::query(include_str!("../../sql/postgres/insert_outbox.sql"))
            .bind(tenant)
            .bind(column(&fresh, |r| r.customer))
            .bind(column(&fresh, change))
            .execute(&mut *self)
            .await?;
        // Relays on other replicas are woken when this commits.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(NOTIFY_CHANNEL)
            .execute(&mut *self)
            .await?;
        Ok(Written {
            stored: fresh.len() as u32,
            over,
        })
    }
}

/// A statement per row: on the embedded file a round trip costs nothing.
/// Keys are claimed first, so the transaction writes before it reads.
impl Batch for SqliteConnection {
    async fn write<T: Table>(&mut self, batch: Accepted<'_, T>) -> Result<Written, sqlx::Error> {
        let Accepted { tenant, rows, now } = batch;
        let mut fresh = Vec::with_capacity(rows.len());
        for r in rows {
            let claimed = sqlx::query(T::CLAIM_KEYS.1)
                .bind(Id(tenant))
                .bind(&r.source)
                .bind(&r.external_id)
                .bind(Id(r.id))
                .execute(&mut *self)
                .await?;
            if claimed.rows_affected() == 1 {
                fresh.push(r);
            }
        }
        let (fresh, over) = bound(&mut *self, tenant, fresh).await?;
        for r in &fresh {
            let insert = sqlx::query(T::INSERT.1)
                .bind(Id(tenant))
                .bind(Time(now))
                .bind(Id(r.customer))
                .bind(Time(r.occurred_at))
                .bind(Id(r.id))
                .bind(&r.source)
                .bind(&r.external_id);
            T::bind_values(insert, r).execute(&mut *self).await?;
            let Some(change) = T::CHANGE else { continue };
            sqlx::query(include_str!("../../sql/sqlite/insert_outbox.sql"))
                .bind(Id(tenant))
                .bind(Id(r.customer))
                .bind(change(r))
                .bind(Time(now))
                .execute(&mut *self)
                .await?;
        }
        if let (Some(mark), false) = (T::MARK, fresh.is_empty()) {
            sqlx::query(mark)
                .bind(Id(tenant))
                .execute(&mut *self)
                .await?;
        }
        Ok(Written {
            stored: fresh.len() as u32,
            over,
        })
    }
}
