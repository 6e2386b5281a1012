//! What GetRuleStats reads: a rule's firings and failed evaluations since a
//! time, and a customer's purchases in a span of days.

use rapport_kit::{db::Id, on_pool};
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

    /// Purchases of `customer` on the days after `from_day` up to `to_day`
    /// (from `customer_days`).
    pub async fn purchases_between(
        &self,
        tenant: Uuid,
        customer: Uuid,
        from_day: i64,
        to_day: i64,
    ) -> Result<i64, sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query_scalar(include_str!("../../../sql/rules/purchases_between.sql"))
                .bind(Id(tenant))
                .bind(Id(customer))
                .bind(from_day as i32)
                .bind(to_day as i32)
                .fetch_one(pool)
                .await
        })
    }
}
