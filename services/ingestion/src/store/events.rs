//! Interaction events: the batch write.

use chrono::Utc;
use rapport_kit::{Db, domain::to_micros};
use uuid::Uuid;

use super::{
    KeyTable, Store, claim_key_sqlite, claim_keys_pg, queue_change_sqlite, queue_changes_pg,
};
use crate::{
    change,
    validate::{Row, event::EventBody},
};

impl Store {
    /// Stores the events whose (source, external id) is new for `tenant`,
    /// each with its outbox change, in one transaction. Returns how many were new.
    pub(crate) async fn insert_events(
        &self,
        tenant: Uuid,
        rows: &[Row<Uuid, EventBody>],
    ) -> Result<u32, sqlx::Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        match &self.db {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let sql = include_str!("../../sql/postgres/insert_event_keys.sql");
                let new = claim_keys_pg(&mut tx, sql, tenant, rows).await?;
                let fresh: Vec<&Row<Uuid, EventBody>> =
                    rows.iter().filter(|r| new.contains(&r.id)).collect();
                if !fresh.is_empty() {
                    sqlx::query(include_str!("../../sql/postgres/insert_events.sql"))
                        .bind(tenant)
                        .bind(Utc::now())
                        .bind(fresh.iter().map(|r| r.customer).collect::<Vec<_>>())
                        .bind(fresh.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
                        .bind(fresh.iter().map(|r| r.id).collect::<Vec<_>>())
                        .bind(fresh.iter().map(|r| r.source.as_str()).collect::<Vec<_>>())
                        .bind(
                            fresh
                                .iter()
                                .map(|r| r.external_id.as_str())
                                .collect::<Vec<_>>(),
                        )
                        .bind(
                            fresh
                                .iter()
                                .map(|r| r.body.kind.as_str())
                                .collect::<Vec<_>>(),
                        )
                        .bind(
                            fresh
                                .iter()
                                .map(|r| r.body.properties.as_str())
                                .collect::<Vec<_>>(),
                        )
                        .execute(&mut *tx)
                        .await?;
                    let customers = fresh.iter().map(|r| r.customer).collect();
                    let changes = fresh.iter().map(|r| change::event(r)).collect();
                    queue_changes_pg(&mut tx, tenant, customers, changes).await?;
                }
                tx.commit().await?;
                if !fresh.is_empty() {
                    super::wake().notify_one();
                }
                Ok(fresh.len() as u32)
            }
            Db::Sqlite(pool) => {
                let tenant = tenant.to_string();
                let now = to_micros(Utc::now());
                let mut tx = pool.begin().await?;
                let mut inserted = 0;
                for r in rows {
                    if !claim_key_sqlite(
                        &mut tx,
                        KeyTable::Events,
                        &tenant,
                        &r.source,
                        &r.external_id,
                        r.id,
                    )
                    .await?
                    {
                        continue;
                    }
                    sqlx::query(include_str!("../../sql/sqlite/insert_event.sql"))
                        .bind(&tenant)
                        .bind(r.customer.to_string())
                        .bind(to_micros(r.occurred_at))
                        .bind(r.id.to_string())
                        .bind(&r.source)
                        .bind(&r.external_id)
                        .bind(&r.body.kind)
                        .bind(&r.body.properties)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    queue_change_sqlite(&mut tx, &tenant, r.customer, change::event(r), now)
                        .await?;
                    inserted += 1;
                }
                tx.commit().await?;
                if inserted > 0 {
                    super::wake().notify_one();
                }
                Ok(inserted)
            }
        }
    }
}
