//! The `attributes` table: free-form key/value rows per customer, replaced
//! as a whole set.

use std::collections::BTreeMap;

use rapport_kit::db::{Id, List};
use uuid::Uuid;

use rapport_kit::{dialect_sql as sql, on_conn};

use super::Conn;

impl Conn<'_> {
    /// Replaces the whole attribute set of each customer.
    pub async fn replace_attributes(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, &BTreeMap<String, String>)],
    ) -> Result<(), sqlx::Error> {
        if items.is_empty() {
            return Ok(());
        }
        let owners: Vec<Uuid> = items.iter().map(|(id, _)| *id).collect();
        let sql = sql!(self, "delete_attributes");
        on_conn!(&mut self.0, c => {
            sqlx::query(sql).bind(Id(tenant)).bind(List(&owners)).execute(c).await.map(drop)?
        });
        let pairs: Vec<(Uuid, &str, &str)> = items
            .iter()
            .flat_map(|(id, map)| map.iter().map(|(k, v)| (*id, k.as_str(), v.as_str())))
            .collect();
        match &mut self.0 {
            _ if pairs.is_empty() => {}
            // One statement over column arrays: a batch is one round trip.
            rapport_kit::db::Conn::Postgres(c) => {
                sqlx::query(include_str!("../../sql/postgres/insert_attributes.sql"))
                    .bind(tenant)
                    .bind(pairs.iter().map(|p| p.0).collect::<Vec<_>>())
                    .bind(pairs.iter().map(|p| p.1).collect::<Vec<_>>())
                    .bind(pairs.iter().map(|p| p.2).collect::<Vec<_>>())
                    .execute(&mut **c)
                    .await?;
            }
            // No round trips to save on the embedded file: a statement a row.
            rapport_kit::db::Conn::Sqlite(c) => {
                for (id, key, value) in pairs {
                    sqlx::query(
                        "INSERT INTO attributes (tenant_id, customer_id, key, value) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(Id(tenant))
                    .bind(Id(id))
                    .bind(key)
                    .bind(value)
                    .execute(&mut **c)
                    .await?;
                }
            }
        }
        Ok(())
    }
}
