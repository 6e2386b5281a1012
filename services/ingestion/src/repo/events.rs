//! Interaction events: their batch insert on each backend.

use chrono::{DateTime, Utc};
use rapport_kit::db::{Id, Time};
use sqlx::{PgConnection, SqliteConnection};
use uuid::Uuid;

use super::{Repo, batch::Table};
use crate::{
    change,
    validate::{Row, event::EventBody},
};

impl Table for EventBody {
    const CLAIM_KEYS: (&'static str, &'static str) = (
        include_str!("../../sql/postgres/insert_event_keys.sql"),
        include_str!("../../sql/sqlite/insert_event_key.sql"),
    );

    fn change(row: &Row<Uuid, Self>) -> Vec<u8> {
        change::event(row)
    }

    async fn insert_postgres(
        c: &mut PgConnection,
        tenant: Uuid,
        rows: &[&Row<Uuid, Self>],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let text = |f: fn(&Row<Uuid, Self>) -> &str| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
        sqlx::query(include_str!("../../sql/postgres/insert_events.sql"))
            .bind(tenant)
            .bind(now)
            .bind(rows.iter().map(|r| r.customer).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .bind(text(|r| &r.source))
            .bind(text(|r| &r.external_id))
            .bind(text(|r| &r.body.kind))
            .bind(text(|r| &r.body.properties))
            .execute(c)
            .await
            .map(drop)
    }

    async fn insert_sqlite(
        c: &mut SqliteConnection,
        tenant: Uuid,
        r: &Row<Uuid, Self>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(include_str!("../../sql/sqlite/insert_event.sql"))
            .bind(Id(tenant))
            .bind(Id(r.customer))
            .bind(Time(r.occurred_at))
            .bind(Id(r.id))
            .bind(&r.source)
            .bind(&r.external_id)
            .bind(&r.body.kind)
            .bind(&r.body.properties)
            .bind(Time(now))
            .execute(c)
            .await
            .map(drop)
    }
}

impl Repo {
    /// Stores the events whose (source, external id) is new for `tenant`,
    /// each with its outbox change, in one transaction. Returns how many
    /// were new.
    pub(crate) async fn insert_events(
        &self,
        tenant: Uuid,
        rows: &[Row<Uuid, EventBody>],
    ) -> Result<u32, sqlx::Error> {
        self.write(tenant, rows).await
    }
}
