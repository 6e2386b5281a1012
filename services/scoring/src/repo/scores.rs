//! Reading whole scores: a batch by customer id, pages of a scan in id order
//! (over every customer or one range of ids), and the pages of ListScores in
//! the order of a measure.

use rapport_kit::{
    db::{Id, List},
    on_pool,
};
use uuid::Uuid;

use super::{
    ScoreRepo, details,
    order::{Cursor, LastPurchase, Order},
    rows::StoredScore,
};

impl ScoreRepo {
    /// The scores of those of `ids` that have one, in no particular order.
    pub async fn get_many(
        &self,
        tenant: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<StoredScore>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = details::by_ids(&self.db);
        let scores = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(Id(tenant)).bind(List(ids)).fetch_all(pool).await?
        });
        Ok(details::in_order(scores, ids))
    }

    /// Up to `limit` scores in customer id order, after `after`: pages of a
    /// scan over every customer that holds no connection between pages.
    pub async fn page(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<StoredScore>, sqlx::Error> {
        let sql = details::select(
            &self.db,
            "WHERE tenant_id = $1 AND ($2 IS NULL OR customer_id > $2) \
             ORDER BY customer_id LIMIT $3",
        );
        on_pool!(&self.reader, pool => {
            sqlx::query_as(&sql)
                .bind(Id(tenant))
                .bind(after.map(Id))
                .bind(limit as i64)
                .fetch_all(pool)
                .await
        })
    }

    /// Up to `limit` scores in customer id order from `from` to `last`, both
    /// included: pages of a scan over one range of the id space (a range of
    /// a split rules pass).
    pub async fn page_between(
        &self,
        tenant: Uuid,
        from: Uuid,
        last: Uuid,
        limit: u32,
    ) -> Result<Vec<StoredScore>, sqlx::Error> {
        let sql = details::select(
            &self.db,
            "WHERE tenant_id = $1 AND customer_id >= $2 AND customer_id <= $3 \
             ORDER BY customer_id LIMIT $4",
        );
        on_pool!(&self.reader, pool => {
            sqlx::query_as(&sql)
                .bind(Id(tenant))
                .bind(Id(from))
                .bind(Id(last))
                .bind(limit as i64)
                .fetch_all(pool)
                .await
        })
    }

    /// The first `limit` customer ids in id order: a uniform sample of the
    /// tenant's customers (the ids are hashes) to estimate its size from.
    pub async fn first_ids(&self, tenant: Uuid, limit: u32) -> Result<Vec<Uuid>, sqlx::Error> {
        let ids: Vec<Id> = on_pool!(&self.reader, pool => {
            sqlx::query_scalar(
                "SELECT customer_id FROM customer_scores WHERE tenant_id = $1 \
                 ORDER BY customer_id LIMIT $2",
            )
            .bind(Id(tenant))
            .bind(limit as i64)
            .fetch_all(pool)
            .await?
        });
        Ok(ids.into_iter().map(|id| id.0).collect())
    }

    /// Up to `limit` scores in `order`, highest first, after `after`.
    pub async fn list(
        &self,
        tenant: Uuid,
        order: Order,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredScore>, sqlx::Error> {
        let (sort, param) = order.sort_sql(&self.db);
        let Some(c) = after else {
            let sql = details::select(
                &self.db,
                &format!("WHERE tenant_id = $1 ORDER BY {sort} DESC, customer_id DESC LIMIT $2"),
            );
            return on_pool!(&self.reader, pool => {
                sqlx::query_as(&sql).bind(Id(tenant)).bind(limit as i64).fetch_all(pool).await
            });
        };
        let sql = details::select(
            &self.db,
            &format!(
                "WHERE tenant_id = $1 AND ({sort}, customer_id) < ({param}, $3) \
                 ORDER BY {sort} DESC, customer_id DESC LIMIT $4"
            ),
        );
        on_pool!(&self.reader, pool => {
            let q = sqlx::query_as::<_, StoredScore>(&sql).bind(Id(tenant));
            let q = match order {
                Order::LastPurchase => q.bind(LastPurchase(c.value)),
                _ => q.bind(c.value.unwrap_or_default()),
            };
            q.bind(Id(c.customer_id)).bind(limit as i64).fetch_all(pool).await
        })
    }
}
