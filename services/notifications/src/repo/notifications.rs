//! Storing an accepted notification, deduplicated per tenant, with the
//! contact policy's frequency cap checked in the same transaction.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, Time},
    on_pool, sql_for,
};
use sqlx::Row;
use uuid::Uuid;

use super::{
    Repository, StoreError,
    reads::{BY_DEDUPE_KEY, notification},
    sql_int,
};
use crate::model::{ContactPolicy, NewNotification, Notification, channel_name, purpose_name};

impl Repository {
    /// Stores `new` unless its dedupe key was used before; returns the stored
    /// notification and whether this call created it. Marketing to a
    /// customer is first checked against `policy` with the customer's
    /// contact-state row locked, so racing replicas cannot both pass the cap;
    /// a refusal is stored as SUPPRESSED.
    pub async fn insert(
        &self,
        tenant: Uuid,
        new: NewNotification,
        policy: &ContactPolicy,
    ) -> Result<(Notification, bool), StoreError> {
        // Postgres locks the customer's row until commit, so a racing accept
        // waits and then counts the row this one inserts. SQLite needs no
        // lock: the first write of a transaction takes the database's single
        // writer lock, which serialises cap checks on its own.
        let lock_row = sql_for!(
            &self.db,
            postgres = Some(
                "SELECT 1 FROM contact_state WHERE tenant_id = $1 AND customer_id = $2 FOR UPDATE"
            ),
            sqlite = None,
        );
        on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let new = if cap_applies(&new) {
                let customer = Id(new.customer_id);
                sqlx::query(include_str!("../../sql/contact_lock.sql"))
                    .bind(Id(tenant))
                    .bind(customer)
                    .execute(&mut *tx)
                    .await?;
                if let Some(lock_row) = lock_row {
                    sqlx::query(lock_row)
                        .bind(Id(tenant))
                        .bind(customer)
                        .execute(&mut *tx)
                        .await?;
                }
                let (since, window_start) = windows(policy, new.created_at);
                let row = sqlx::query(include_str!("../../sql/recent_marketing.sql"))
                    .bind(Id(tenant))
                    .bind(customer)
                    .bind(Time(since))
                    .bind(Time(window_start))
                    .fetch_one(&mut *tx)
                    .await?;
                let in_window: i64 = row.try_get("in_window")?;
                let latest: Option<Time> = row.try_get("latest")?;
                capped(new, policy, in_window, latest.map(|t| t.0))
            } else {
                new
            };
            let inserted = sqlx::query(include_str!("../../sql/insert.sql"))
                .bind(Id(tenant))
                .bind(Id(new.customer_id))
                .bind(Id(new.id))
                .bind(&new.dedupe_key)
                .bind(channel_name(new.channel))
                .bind(&new.destination)
                .bind(&new.subject)
                .bind(&new.body)
                .bind(new.status().as_str())
                .bind(Time(new.created_at))
                .bind(new.first_attempt_at().map(Time))
                .bind(new.suppressed.unwrap_or_default())
                .bind(purpose_name(new.purpose))
                .bind(&new.template)
                .bind(&new.locale)
                .bind(sql_int(new.template_version))
                .bind(&new.origin)
                .bind(new.send_at.map(Time))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if inserted == 1 {
                tx.commit().await?;
                return Ok((Notification::from_new(&new), true));
            }
            // Ended before the read: SQLite's pool has one connection.
            tx.rollback().await?;
            let row = sqlx::query(BY_DEDUPE_KEY)
                .bind(Id(tenant))
                .bind(&new.dedupe_key)
                .fetch_one(pool)
                .await?;
            Ok((notification(&row)?, false))
        })
    }
}

/// Whether the frequency cap applies to `new`: marketing to a customer that
/// policy has not already refused.
fn cap_applies(new: &NewNotification) -> bool {
    new.purpose == rapport_proto::v1::Purpose::Marketing
        && !new.customer_id.is_nil()
        && new.suppressed.is_none()
}

/// Start of the look-back that covers both the cap's window and the
/// cool-down, and start of the cap's window, for an accept at `now`.
fn windows(policy: &ContactPolicy, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let hours = |h: u32| chrono::Duration::hours(i64::from(h));
    let window_start = now - hours(policy.window_hours);
    let since = now - hours(policy.window_hours.max(policy.cool_down_hours));
    (since, window_start)
}

/// The contact policy's verdict on a marketing message, or `new` unchanged.
fn capped(
    mut new: NewNotification,
    policy: &ContactPolicy,
    in_window: i64,
    latest: Option<DateTime<Utc>>,
) -> NewNotification {
    let in_window = u32::try_from(in_window).unwrap_or(u32::MAX);
    if let Some(reason) = policy.refusal(new.created_at, in_window, latest) {
        new.suppressed = Some(reason);
    }
    new
}
