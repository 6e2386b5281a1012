//! A tenant's scoring settings (`settings`), versioned; no row means the
//! defaults.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, Time},
    in_tx, on_pool, sql_for,
};
use sqlx::types::Json;
use uuid::Uuid;

use super::ModelRepo;
use crate::config::Settings;

/// Stored settings: the settings, their version (0 for defaults never
/// stored) and when they last changed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSettings {
    /// The settings.
    pub settings: Settings,
    /// Grows with every change; 0 while the defaults are in force.
    pub version: i64,
    /// When they last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

type Row = (Json<Settings>, i64, Time);

fn stored(row: Option<Row>) -> StoredSettings {
    match row {
        Some((s, version, at)) => StoredSettings {
            settings: s.0,
            version,
            updated_at: Some(at.0),
        },
        None => StoredSettings {
            settings: Settings::default(),
            version: 0,
            updated_at: None,
        },
    }
}

impl ModelRepo {
    /// The tenant's settings, defaults when none are stored.
    pub async fn settings(&self, tenant: Uuid) -> Result<StoredSettings, sqlx::Error> {
        let row = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../../sql/select_settings.sql"))
                .bind(Id(tenant))
                .fetch_optional(pool)
                .await?
        });
        Ok(stored(row))
    }

    /// Stores `next` unless the stored settings already equal it; returns
    /// the settings in force afterwards and whether they changed. Compared
    /// and written in one transaction, so a repeated update changes nothing.
    pub async fn put_settings(
        &self,
        tenant: Uuid,
        next: &Settings,
        now: DateTime<Utc>,
    ) -> Result<(StoredSettings, bool), sqlx::Error> {
        // On Postgres the row lock serialises concurrent updates of one tenant
        // (a concurrent first insert loses on the key); SQLite's one
        // connection serialises them already.
        let select = sql_for!(
            &self.db,
            postgres = concat!(
                include_str!("../../../sql/select_settings.sql"),
                "FOR UPDATE"
            ),
            sqlite = include_str!("../../../sql/select_settings.sql"),
        );
        let outcome = in_tx!(&self.db, tx => {
            let current = stored(
                sqlx::query_as(select).bind(Id(tenant)).fetch_optional(&mut *tx).await?,
            );
            if current.settings == *next {
                (current, false)
            } else {
                let version: i64 = sqlx::query_scalar(include_str!("../../../sql/put_settings.sql"))
                    .bind(Id(tenant))
                    .bind(Json(next))
                    .bind(Time(now))
                    .fetch_one(&mut *tx)
                    .await?;
                let stored = StoredSettings {
                    settings: next.clone(),
                    version,
                    updated_at: Some(now),
                };
                (stored, true)
            }
        });
        Ok(outcome)
    }
}
