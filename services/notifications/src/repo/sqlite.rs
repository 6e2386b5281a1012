//! The SQLite dialect: ids as TEXT, times as INTEGER microseconds. The pool
//! has one connection, so nothing here holds one while acquiring another.

use chrono::{DateTime, Utc};
use rapport_kit::domain::{from_micros, to_micros};
use sqlx::{Row, SqlitePool, sqlite::SqliteRow};
use uuid::Uuid;

use super::{
    ADD_ATTEMPT, ATTEMPTS, BY_DEDUPE_KEY, Cursor, FINISH, GET, INSERT, LIST, LIST_CUSTOMER,
    StoreError, count, outcome, sql_int, status,
};
use crate::model::{Attempt, Claimed, NewNotification, Next, Notification, channel_name};

const CLAIM: &str = include_str!("../../sql/claim_sqlite.sql");

pub(super) async fn insert(
    pool: &SqlitePool,
    tenant: Uuid,
    new: &NewNotification,
) -> Result<(Notification, bool), StoreError> {
    let inserted = sqlx::query(INSERT)
        .bind(tenant.to_string())
        .bind(new.customer_id.to_string())
        .bind(new.id.to_string())
        .bind(&new.dedupe_key)
        .bind(channel_name(new.channel))
        .bind(&new.destination)
        .bind(&new.subject)
        .bind(&new.body)
        .bind(to_micros(new.created_at))
        .execute(pool)
        .await?
        .rows_affected();
    if inserted == 1 {
        return Ok((Notification::from_new(new), true));
    }
    let row = sqlx::query(BY_DEDUPE_KEY)
        .bind(tenant.to_string())
        .bind(&new.dedupe_key)
        .fetch_one(pool)
        .await?;
    Ok((notification(&row)?, false))
}

pub(super) async fn get(
    pool: &SqlitePool,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<(Notification, Vec<Attempt>)>, StoreError> {
    let row = sqlx::query(GET)
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let n = notification(&row)?;
    let rows = sqlx::query(ATTEMPTS)
        .bind(tenant.to_string())
        .bind(n.customer_id.to_string())
        .bind(n.id.to_string())
        .fetch_all(pool)
        .await?;
    let attempts = rows.iter().map(attempt).collect::<Result<_, _>>()?;
    Ok(Some((n, attempts)))
}

pub(super) async fn list(
    pool: &SqlitePool,
    tenant: Uuid,
    customer: Option<Uuid>,
    after: Cursor,
    limit: u32,
) -> Result<Vec<Notification>, StoreError> {
    let query = match customer {
        Some(c) => sqlx::query(LIST_CUSTOMER)
            .bind(tenant.to_string())
            .bind(c.to_string()),
        None => sqlx::query(LIST).bind(tenant.to_string()),
    };
    let rows = query
        .bind(to_micros(after.created_at))
        .bind(after.id.to_string())
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.iter().map(notification).collect()
}

pub(super) async fn claim(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
    lease_id: Uuid,
) -> Result<Vec<Claimed>, StoreError> {
    let rows = sqlx::query(CLAIM)
        .bind(to_micros(now))
        .bind(to_micros(lease_until))
        .bind(i64::from(limit))
        .bind(lease_id.to_string())
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                tenant_id: uuid(r, "tenant_id")?,
                customer_id: uuid(r, "customer_id")?,
                id: uuid(r, "id")?,
                dedupe_key: r.try_get("dedupe_key")?,
                destination: r.try_get("destination")?,
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
                created_at: from_micros(r.try_get("created_at")?),
                attempt: count(r.try_get("attempt_count")?, "attempt_count")? + 1,
                lease_id,
            })
        })
        .collect()
}

pub(super) async fn finish(
    pool: &SqlitePool,
    job: &Claimed,
    attempt: &Attempt,
    next: &Next,
    error: Option<&str>,
) -> Result<bool, StoreError> {
    let (status, next_at, delivered_at, provider_id) = outcome(next);
    // The update comes first, so the transaction takes SQLite's write lock
    // at its first statement and never has to upgrade a read.
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(FINISH)
        .bind(job.tenant_id.to_string())
        .bind(job.customer_id.to_string())
        .bind(job.id.to_string())
        .bind(job.lease_id.to_string())
        .bind(status.as_str())
        .bind(sql_int(attempt.number))
        .bind(next_at.map(to_micros))
        .bind(delivered_at.map(to_micros))
        .bind(error)
        .bind(provider_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(ADD_ATTEMPT)
        .bind(job.tenant_id.to_string())
        .bind(job.customer_id.to_string())
        .bind(job.id.to_string())
        .bind(sql_int(attempt.number))
        .bind(to_micros(attempt.started_at))
        .bind(attempt.succeeded)
        .bind(attempt.http_status)
        .bind(&attempt.error)
        .bind(sql_int(attempt.duration_ms))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

fn uuid(r: &SqliteRow, column: &str) -> Result<Uuid, StoreError> {
    let text: String = r.try_get(column)?;
    Uuid::parse_str(&text).map_err(|_| StoreError::Corrupt(format!("{column} {text:?}")))
}

fn notification(r: &SqliteRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: uuid(r, "id")?,
        customer_id: uuid(r, "customer_id")?,
        dedupe_key: r.try_get("dedupe_key")?,
        channel: r.try_get("channel")?,
        destination: r.try_get("destination")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        status: status(r.try_get("status")?)?,
        attempt_count: count(r.try_get("attempt_count")?, "attempt_count")?,
        created_at: from_micros(r.try_get("created_at")?),
        next_attempt_at: r
            .try_get::<Option<i64>, _>("next_attempt_at")?
            .map(from_micros),
        delivered_at: r
            .try_get::<Option<i64>, _>("delivered_at")?
            .map(from_micros),
        last_error: r.try_get("last_error")?,
        provider_message_id: r.try_get("provider_message_id")?,
    })
}

fn attempt(r: &SqliteRow) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        number: count(r.try_get("number")?, "attempt number")?,
        started_at: from_micros(r.try_get("started_at")?),
        succeeded: r.try_get("succeeded")?,
        http_status: r.try_get("http_status")?,
        error: r.try_get("error")?,
        duration_ms: count(r.try_get("duration_ms")?, "duration_ms")?,
    })
}
