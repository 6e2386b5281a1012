//! The SQLite dialect: ids as TEXT, times as INTEGER microseconds. The pool
//! has one connection, so nothing here holds one while acquiring another.

use chrono::{DateTime, Utc};
use rapport_kit::domain::{from_micros, to_micros};
use sqlx::{Row, SqlitePool, sqlite::SqliteRow};
use uuid::Uuid;

use super::{
    ADD_ATTEMPT, ATTEMPTS, BY_DEDUPE_KEY, CONTACT_LOCK, Cursor, FINISH, GET, INSERT, LIST,
    LIST_CUSTOMER, RECENT_MARKETING, StoreError, cap_applies, capped, count, outcome, sql_int,
    status, suppressed_reason, windows,
};
use crate::model::{
    Attempt, Claimed, ContactPolicy, NewNotification, Next, Notification, channel_name,
    purpose_name,
};

const CLAIM: &str = include_str!("../../sql/claim_sqlite.sql");

pub(super) async fn insert(
    pool: &SqlitePool,
    tenant: Uuid,
    new: NewNotification,
    policy: &ContactPolicy,
) -> Result<(Notification, bool), StoreError> {
    // SQLite has one writer at a time: the first write of the transaction
    // takes the database lock, which serialises cap checks on its own.
    let mut tx = pool.begin().await?;
    let new = if cap_applies(&new) {
        sqlx::query(CONTACT_LOCK)
            .bind(tenant.to_string())
            .bind(new.customer_id.to_string())
            .execute(&mut *tx)
            .await?;
        let (since, window_start) = windows(policy, new.created_at);
        let row = sqlx::query(RECENT_MARKETING)
            .bind(tenant.to_string())
            .bind(new.customer_id.to_string())
            .bind(to_micros(since))
            .bind(to_micros(window_start))
            .fetch_one(&mut *tx)
            .await?;
        let in_window: i64 = row.try_get("in_window")?;
        let latest: Option<i64> = row.try_get("latest")?;
        capped(new, policy, in_window, latest.map(from_micros))
    } else {
        new
    };
    let inserted = sqlx::query(INSERT)
        .bind(tenant.to_string())
        .bind(new.customer_id.to_string())
        .bind(new.id.to_string())
        .bind(&new.dedupe_key)
        .bind(channel_name(new.channel))
        .bind(&new.destination)
        .bind(&new.subject)
        .bind(&new.body)
        .bind(new.status().as_str())
        .bind(to_micros(new.created_at))
        .bind(new.first_attempt_at().map(to_micros))
        .bind(new.suppressed.unwrap_or_default())
        .bind(purpose_name(new.purpose))
        .bind(&new.template)
        .bind(&new.locale)
        .bind(sql_int(new.template_version))
        .bind(&new.origin)
        .bind(new.send_at.map(to_micros))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if inserted == 1 {
        tx.commit().await?;
        return Ok((Notification::from_new(&new), true));
    }
    tx.rollback().await?;
    let row = sqlx::query(BY_DEDUPE_KEY)
        .bind(tenant.to_string())
        .bind(&new.dedupe_key)
        .fetch_one(pool)
        .await?;
    Ok((notification(&row)?, false))
}

pub(super) async fn by_dedupe_key(
    pool: &SqlitePool,
    tenant: Uuid,
    key: &str,
) -> Result<Option<Notification>, StoreError> {
    let row = sqlx::query(BY_DEDUPE_KEY)
        .bind(tenant.to_string())
        .bind(key)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(notification).transpose()
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
                channel: r.try_get("channel")?,
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
        .bind(suppressed_reason(next))
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
        .bind(sql_int(attempt.retry_delay_ms))
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
        suppressed_reason: r.try_get("suppressed_reason")?,
        purpose: r.try_get("purpose")?,
        template: r.try_get("template")?,
        locale: r.try_get("locale")?,
        template_version: count(r.try_get("template_version")?, "template_version")?,
        origin: r.try_get("origin")?,
        send_at: r.try_get::<Option<i64>, _>("send_at")?.map(from_micros),
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
        retry_delay_ms: count(r.try_get("retry_delay_ms")?, "retry_delay_ms")?,
    })
}
