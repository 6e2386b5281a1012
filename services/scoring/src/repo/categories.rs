//! Reads of `customer_categories` (purchases and net spend per customer and
//! product category, kept on the apply path): what the report run's
//! category affinity and cross-sell list, and GetCrossSell, read. Every read
//! is led by the tenant and ranges over the primary key.

use rapport_kit::{db::Id, on_pool};
use uuid::Uuid;

use super::ScoreRepo;

/// One customer's purchases in one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRow {
    pub customer_id: Uuid,
    pub category: String,
    pub purchases: i64,
    pub net_minor: i64,
}

fn row((c, category, purchases, net_minor): (Id, String, i64, i64)) -> CategoryRow {
    CategoryRow {
        customer_id: c.0,
        category,
        purchases,
        net_minor,
    }
}

const COLUMNS: &str = "SELECT customer_id, category, purchases, net_minor FROM customer_categories";

impl ScoreRepo {
    /// The `limit` categories with the most buyers (customers with a
    /// purchase in them), most first, then by name. One aggregate over the
    /// tenant's rows: for the report job only, never a request.
    pub async fn top_categories(&self, tenant: Uuid, limit: u32) -> sqlx::Result<Vec<String>> {
        on_pool!(&self.reader, pool => {
            sqlx::query_scalar(
                "SELECT category FROM customer_categories \
                  WHERE tenant_id = $1 AND purchases > 0 \
                  GROUP BY category ORDER BY COUNT(*) DESC, category LIMIT $2",
            )
            .bind(Id(tenant))
            .bind(limit as i64)
            .fetch_all(pool)
            .await
        })
    }

    /// The categories bought (at least one purchase) by the customers from
    /// `first` to `last` inclusive, by customer then category: one page of
    /// a pass in customer order, one range of the primary key.
    pub async fn categories_between(
        &self,
        tenant: Uuid,
        first: Uuid,
        last: Uuid,
    ) -> sqlx::Result<Vec<CategoryRow>> {
        let sql = format!(
            "{COLUMNS} WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3 \
               AND purchases > 0 ORDER BY customer_id, category"
        );
        let rows: Vec<(Id, String, i64, i64)> = on_pool!(&self.reader, pool => {
            sqlx::query_as(&sql)
                .bind(Id(tenant))
                .bind(Id(first))
                .bind(Id(last))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(row).collect())
    }

    /// One customer's categories, refunded-only ones included, by category.
    pub async fn categories_of(
        &self,
        tenant: Uuid,
        customer: Uuid,
    ) -> sqlx::Result<Vec<CategoryRow>> {
        let sql = format!("{COLUMNS} WHERE tenant_id = $1 AND customer_id = $2 ORDER BY category");
        let rows: Vec<(Id, String, i64, i64)> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(Id(tenant))
                .bind(Id(customer))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(row).collect())
    }
}
