//! What evaluation remembers of a customer: the segment and tier last seen
//! (to raise entered/left events) and the marks actions set.

use rapport_kit::{db::Id, on_pool};
use uuid::Uuid;

use super::EvaluationRepo;
use crate::repo::Marks;

impl EvaluationRepo {
    /// A customer's last seen (segment, tier), if any.
    pub async fn membership(
        &self,
        tenant: Uuid,
        customer: Uuid,
    ) -> Result<Option<(String, String)>, sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT segment, tier FROM customer_membership WHERE tenant_id = $1 AND customer_id = $2",
            )
            .bind(Id(tenant)).bind(Id(customer))
            .fetch_optional(pool).await
        })
    }

    /// Stores the customer's membership and the entered/left events seen:
    /// (event id, kind, value, previous).
    pub async fn set_membership(
        &self,
        tenant: Uuid,
        customer: Uuid,
        segment: &str,
        tier: &str,
        events: &[(String, String, String, String)],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let (t, c) = (Id(tenant), Id(customer));
        on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(include_str!("../../../sql/rules/upsert_membership.sql"))
                .bind(t).bind(c).bind(segment).bind(tier).bind(now)
                .execute(&mut *tx).await?;
            for (id, kind, value, previous) in events {
                sqlx::query(include_str!("../../../sql/rules/insert_membership_event.sql"))
                    .bind(t).bind(id).bind(c).bind(kind).bind(value).bind(previous).bind(now)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A customer's (tier override, its origin, tags).
    pub async fn marks(&self, tenant: Uuid, customer: Uuid) -> Result<Marks, sqlx::Error> {
        let row: Option<(Option<String>, Option<String>, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../../sql/rules/select_marks.sql"))
                .bind(Id(tenant)).bind(Id(customer))
                .fetch_optional(pool).await?
        });
        Ok(row
            .map(|(tier, origin, tags)| Marks {
                tier,
                origin,
                tags: serde_json::from_str(&tags).unwrap_or_default(),
            })
            .unwrap_or_default())
    }
}
