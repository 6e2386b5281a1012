//! The Postgres dialect: native uuid and timestamptz columns.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row, postgres::PgRow};
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

const CLAIM: &str = include_str!("../../sql/claim_postgres.sql");
const LOCK_ROW: &str =
    "SELECT 1 FROM contact_state WHERE tenant_id = $1 AND customer_id = $2 FOR UPDATE";

pub(super) async fn insert(
    pool: &PgPool,
    tenant: Uuid,
    new: NewNotification,
    policy: &ContactPolicy,
) -> Result<(Notification, bool), StoreError> {
    let mut tx = pool.begin().await?;
    let new = if cap_applies(&new) {
        sqlx::query(CONTACT_LOCK)
            .bind(tenant)
            .bind(new.customer_id)
            .execute(&mut *tx)
            .await?;
        // Held until commit: a racing accept for this customer waits here
        // and then counts the row this one inserts.
        sqlx::query(LOCK_ROW)
            .bind(tenant)
            .bind(new.customer_id)
            .execute(&mut *tx)
            .await?;
        let (since, window_start) = windows(policy, new.created_at);
        let row = sqlx::query(RECENT_MARKETING)
            .bind(tenant)
            .bind(new.customer_id)
            .bind(since)
            .bind(window_start)
            .fetch_one(&mut *tx)
            .await?;
        let in_window: i64 = row.try_get("in_window")?;
        let latest: Option<DateTime<Utc>> = row.try_get("latest")?;
        capped(new, policy, in_window, latest)
    } else {
        new
    };
    let inserted = sqlx::query(INSERT)
        .bind(tenant)
        .bind(new.customer_id)
        .bind(new.id)
        .bind(&new.dedupe_key)
        .bind(channel_name(new.channel))
        .bind(&new.destination)
        .bind(&new.subject)
        .bind(&new.body)
        .bind(new.status().as_str())
        .bind(new.created_at)
        .bind(new.first_attempt_at())
        .bind(new.suppressed.unwrap_or_default())
        .bind(purpose_name(new.purpose))
        .bind(&new.template)
        .bind(&new.locale)
        .bind(sql_int(new.template_version))
        .bind(&new.origin)
        .bind(new.send_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if inserted == 1 {
        tx.commit().await?;
        return Ok((Notification::from_new(&new), true));
    }
    tx.rollback().await?;
    let row = sqlx::query(BY_DEDUPE_KEY)
        .bind(tenant)
        .bind(&new.dedupe_key)
        .fetch_one(pool)
        .await?;
    Ok((notification(&row)?, false))
}

pub(super) async fn by_dedupe_key(
    pool: &PgPool,
    tenant: Uuid,
    key: &str,
) -> Result<Option<Notification>, StoreError> {
    let row = sqlx::query(BY_DEDUPE_KEY)
        .bind(tenant)
        .bind(key)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(notification).transpose()
}

pub(super) async fn get(
    pool: &PgPool,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<(Notification, Vec<Attempt>)>, StoreError> {
    let Some(row) = sqlx::query(GET)
        .bind(tenant)
        .bind(id)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let n = notification(&row)?;
    let rows = sqlx::query(ATTEMPTS)
        .bind(tenant)
        .bind(n.customer_id)
        .bind(n.id)
        .fetch_all(pool)
        .await?;
    let attempts = rows.iter().map(attempt).collect::<Result<_, _>>()?;
    Ok(Some((n, attempts)))
}

pub(super) async fn list(
    pool: &PgPool,
    tenant: Uuid,
    customer: Option<Uuid>,
    after: Cursor,
    limit: u32,
) -> Result<Vec<Notification>, StoreError> {
    let query = match customer {
        Some(c) => sqlx::query(LIST_CUSTOMER).bind(tenant).bind(c),
        None => sqlx::query(LIST).bind(tenant),
    };
    let rows = query
        .bind(after.created_at)
        .bind(after.id)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.iter().map(notification).collect()
}

pub(super) async fn claim(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
    lease_id: Uuid,
) -> Result<Vec<Claimed>, StoreError> {
    let rows = sqlx::query(CLAIM)
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .bind(lease_id)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                tenant_id: r.try_get("tenant_id")?,
                customer_id: r.try_get("customer_id")?,
                id: r.try_get("id")?,
                channel: r.try_get("channel")?,
                dedupe_key: r.try_get("dedupe_key")?,
                destination: r.try_get("destination")?,
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
                attempt: count(
                    i64::from(r.try_get::<i32, _>("attempt_count")?),
                    "attempt_count",
                )? + 1,
                lease_id,
            })
        })
        .collect()
}

pub(super) async fn finish(
    pool: &PgPool,
    job: &Claimed,
    attempt: &Attempt,
    next: &Next,
    error: Option<&str>,
) -> Result<bool, StoreError> {
    let (status, next_at, delivered_at, provider_id) = outcome(next);
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(FINISH)
        .bind(job.tenant_id)
        .bind(job.customer_id)
        .bind(job.id)
        .bind(job.lease_id)
        .bind(status.as_str())
        .bind(sql_int(attempt.number))
        .bind(next_at)
        .bind(delivered_at)
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
        .bind(job.tenant_id)
        .bind(job.customer_id)
        .bind(job.id)
        .bind(sql_int(attempt.number))
        .bind(attempt.started_at)
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

fn notification(r: &PgRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        dedupe_key: r.try_get("dedupe_key")?,
        channel: r.try_get("channel")?,
        destination: r.try_get("destination")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        status: status(r.try_get("status")?)?,
        attempt_count: count(
            i64::from(r.try_get::<i32, _>("attempt_count")?),
            "attempt_count",
        )?,
        created_at: r.try_get("created_at")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        delivered_at: r.try_get("delivered_at")?,
        last_error: r.try_get("last_error")?,
        provider_message_id: r.try_get("provider_message_id")?,
        suppressed_reason: r.try_get("suppressed_reason")?,
        purpose: r.try_get("purpose")?,
        template: r.try_get("template")?,
        locale: r.try_get("locale")?,
        template_version: count(
            i64::from(r.try_get::<i32, _>("template_version")?),
            "template_version",
        )?,
        origin: r.try_get("origin")?,
        send_at: r.try_get("send_at")?,
    })
}

fn attempt(r: &PgRow) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        number: count(i64::from(r.try_get::<i32, _>("number")?), "attempt number")?,
        started_at: r.try_get("started_at")?,
        succeeded: r.try_get("succeeded")?,
        http_status: r.try_get("http_status")?,
        error: r.try_get("error")?,
        duration_ms: count(
            i64::from(r.try_get::<i32, _>("duration_ms")?),
            "duration_ms",
        )?,
        retry_delay_ms: count(
            i64::from(r.try_get::<i32, _>("retry_delay_ms")?),
            "retry_delay_ms",
        )?,
    })
}
