//! What GetRuleStats reads: a rule's firings and failed evaluations since a
//! time, and the compared customers' purchases after their firings.

use std::collections::HashMap;

use rapport_kit::{
    db::{Id, List},
    on_pool, sql_for,
};
use uuid::Uuid;

use super::EvaluationRepo;

/// What a rule did since a time.
pub struct RuleWindow {
    /// Its firings, oldest first: (customer, fired at, holdout, results JSON).
    pub firings: Vec<(Id, i64, bool, String)>,
    /// How many of its evaluations failed.
    pub errors: i64,
    /// The greatest of their messages.
    pub last_error: Option<String>,
}

/// Customers per read of their purchases.
const WINDOW_CHUNK: usize = 1_000;

impl EvaluationRepo {
    /// What `rule` did since `since` (microseconds).
    pub async fn since(
        &self,
        tenant: Uuid,
        rule: &str,
        since: i64,
    ) -> Result<RuleWindow, sqlx::Error> {
        let tenant = Id(tenant);
        on_pool!(&self.db, pool => {
            let firings = sqlx::query_as(include_str!("../../../sql/rules/firings_since.sql"))
                .bind(tenant).bind(rule).bind(since)
                .fetch_all(pool).await?;
            let (errors, last_error) =
                sqlx::query_as(include_str!("../../../sql/rules/errors_since.sql"))
                    .bind(tenant).bind(rule).bind(since)
                    .fetch_one(pool).await?;
            Ok(RuleWindow { firings, errors, last_error })
        })
    }

    /// Purchases of each `(customer, from_day, to_day)` on the days after
    /// `from_day` up to `to_day` (from `customer_days`), in the order given:
    /// one read per thousand customers.
    pub async fn purchases_in_windows(
        &self,
        tenant: Uuid,
        windows: &[(Uuid, i64, i64)],
    ) -> Result<Vec<i64>, sqlx::Error> {
        let sql = sql_for!(
            &self.db,
            postgres = "SELECT customer_id, day, purchases FROM customer_days \
                        WHERE tenant_id = $1 AND customer_id = ANY($2) AND day > $3 AND day <= $4",
            sqlite = "SELECT customer_id, day, purchases FROM customer_days \
                      WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2)) \
                      AND day > $3 AND day <= $4",
        );
        let mut out = Vec::with_capacity(windows.len());
        for chunk in windows.chunks(WINDOW_CHUNK) {
            let ids: Vec<Id> = chunk.iter().map(|w| Id(w.0)).collect();
            let from = chunk.iter().map(|w| w.1).min().unwrap_or(0);
            let to = chunk.iter().map(|w| w.2).max().unwrap_or(0);
            let day = |d: i64| i32::try_from(d).unwrap_or(if d < 0 { i32::MIN } else { i32::MAX });
            let rows: Vec<(Id, i32, i64)> = on_pool!(&self.db, pool => {
                sqlx::query_as(sql)
                    .bind(Id(tenant)).bind(List(&ids)).bind(day(from)).bind(day(to))
                    .fetch_all(pool).await?
            });
            let mut sums: HashMap<Uuid, i64> = HashMap::with_capacity(chunk.len());
            let windows: HashMap<Uuid, (i64, i64)> =
                chunk.iter().map(|w| (w.0, (w.1, w.2))).collect();
            for (customer, d, purchases) in rows {
                let d = i64::from(d);
                if let Some((from, to)) = windows.get(&customer.0)
                    && d > *from
                    && d <= *to
                {
                    let sum = sums.entry(customer.0).or_default();
                    *sum = sum.saturating_add(purchases);
                }
            }
            out.extend(chunk.iter().map(|w| sums.get(&w.0).copied().unwrap_or(0)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use rapport_kit::{
        Db,
        testing::{self, Backend},
    };

    use super::*;

    rapport_kit::backend_tests! {
        purchases_are_summed_within_each_customers_own_window,
    }

    async fn purchases_are_summed_within_each_customers_own_window(backend: Backend) {
        let config = testing::config(backend).await;
        let db = Db::connect_lazy(&config, crate::SCHEMA).unwrap();
        db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await.unwrap();
        let repo = EvaluationRepo { db: db.clone() };
        let (tenant, other) = (Uuid::new_v4(), Uuid::new_v4());
        // 2,500 customers, so the reads cross chunks: customer i bought
        // i % 3 + 1 times on day 100 + i % 7, and once on day 300.
        let customers: Vec<Uuid> = (0..2_500).map(|_| Uuid::new_v4()).collect();
        on_pool!(&db, pool => {
            let mut tx = pool.begin().await.unwrap();
            for (i, c) in customers.iter().enumerate() {
                for (t, day, n) in [
                    (tenant, 100 + (i % 7) as i32, (i % 3 + 1) as i64),
                    (tenant, 300, 1),
                    (other, 100 + (i % 7) as i32, 50),
                ] {
                    sqlx::query(
                        "INSERT INTO customer_days (tenant_id, customer_id, day, purchases, purchase_minor) \
                         VALUES ($1, $2, $3, $4, 0)",
                    )
                    .bind(Id(t)).bind(Id(*c)).bind(day).bind(n)
                    .execute(&mut *tx).await.unwrap();
                }
            }
            tx.commit().await.unwrap();
        });
        // Customer i's window starts after day 100 + i % 5 and ends at day
        // 106, or 300 for every tenth; one customer bought nothing.
        let mut windows: Vec<(Uuid, i64, i64)> = customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    *c,
                    100 + (i % 5) as i64,
                    if i % 10 == 0 { 300 } else { 106 },
                )
            })
            .collect();
        windows.push((Uuid::new_v4(), 0, 1_000));
        let got = repo.purchases_in_windows(tenant, &windows).await.unwrap();
        let expected: Vec<i64> = (0..2_500)
            .map(|i| {
                let day = 100 + (i % 7) as i64;
                let (from, to) = (100 + (i % 5) as i64, if i % 10 == 0 { 300 } else { 106 });
                let first = if day > from && day <= to {
                    (i % 3 + 1) as i64
                } else {
                    0
                };
                first + i64::from(to >= 300)
            })
            .chain([0])
            .collect();
        assert_eq!(got, expected);
        assert!(
            repo.purchases_in_windows(tenant, &[])
                .await
                .unwrap()
                .is_empty()
        );
    }
}
