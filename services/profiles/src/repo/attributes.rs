//! The `attributes` table: free-form key/value rows per customer, replaced
//! as a whole set.

use std::collections::BTreeMap;

use rapport_kit::db::{Id, List};
use uuid::Uuid;

use rapport_kit::{dialect_sql as sql, on_conn};

use super::Conn;

/// Attribute rows one Postgres statement inserts: 8,192 keep a statement's
/// arguments to about 1 MB at common sizes (9 MB at the longest keys and
/// values), and a batch of 5,000 customers of 100 attributes takes 62
/// round trips.
const ATTRIBUTES_PER_STATEMENT: usize = 8_192;

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
            // Statements over column arrays, a few round trips a batch. Each
            // takes a slice of the pairs, so the encoded arguments of a
            // batch of 500,000 attributes are never held at once.
            rapport_kit::db::Conn::Postgres(c) => {
                for chunk in pairs.chunks(ATTRIBUTES_PER_STATEMENT) {
                    sqlx::query(include_str!("../../sql/postgres/insert_attributes.sql"))
                        .bind(tenant)
                        .bind(chunk.iter().map(|p| p.0).collect::<Vec<_>>())
                        .bind(chunk.iter().map(|p| p.1).collect::<Vec<_>>())
                        .bind(chunk.iter().map(|p| p.2).collect::<Vec<_>>())
                        .execute(&mut **c)
                        .await?;
                }
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
