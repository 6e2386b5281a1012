//! Storing an accepted notification, deduplicated per tenant, with the
//! contact policy's frequency cap checked in the same transaction.

use rapport_kit::{
    db::{Id, Time},
    on_pool, sql_for,
};
use sqlx::Row;
use uuid::Uuid;

use super::{
    Repository,
    reads::BY_DEDUPE_KEY,
    rows::{notification, sql_int},
};
use crate::{
    error::Error,
    model::{ContactPolicy, NewNotification, Notification, channel_name, purpose_name},
};

impl Repository {
    /// Stores `new` unless its dedupe key was used before; returns the stored
    /// notification and whether this call created it. Marketing to a
    /// customer is first checked against `policy` with the customer's
    /// contact-state row locked, so racing replicas cannot both pass the cap;
    /// a refusal is stored as SUPPRESSED.
    pub async fn insert(
        &self,
        tenant: Uuid,
        mut new: NewNotification,
        policy: &ContactPolicy,
    ) -> Result<(Notification, bool), Error> {
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
            if new.counts_against_cap() {
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
                let (since, window_start) = policy.look_back(new.created_at);
                let row = sqlx::query(include_str!("../../sql/recent_marketing.sql"))
                    .bind(Id(tenant))
                    .bind(customer)
                    .bind(Time(since))
                    .bind(Time(window_start))
                    .fetch_one(&mut *tx)
                    .await?;
                let in_window: i64 = row.try_get("in_window")?;
                let latest: Option<Time> = row.try_get("latest")?;
                new.apply_cap(policy, in_window, latest.map(|t| t.0));
            }
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
                .bind(&new.integration_endpoint)
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
