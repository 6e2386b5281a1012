//! What a stored score is: its `customer_scores` row, its months and the
//! marks rules set on it, decoded the same way from either backend.

use chrono::{DateTime, Utc};
use rapport_kit::db::{Id, Time};
use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};
use uuid::Uuid;

/// The columns of a score row.
pub(super) const COLUMNS: &str = "customer_id, version, first_purchase_at, last_purchase_at, \
     purchase_count, refund_count, purchase_total_minor, refund_total_minor, currency_code, \
     last_interaction_at, interaction_count, updated_at, purchase_days, purchase_weeks, \
     first_day_purchase_minor, first_week_purchase_minor, margin_total_minor, \
     wallet_estimate_minor";

/// One customer's stored aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRow {
    /// The customer.
    pub customer_id: Uuid,
    /// Grows by one per call that changed the customer.
    pub version: i64,
    /// Earliest purchase.
    pub first_purchase_at: Option<DateTime<Utc>>,
    /// Latest purchase.
    pub last_purchase_at: Option<DateTime<Utc>>,
    /// Purchases.
    pub purchase_count: i64,
    /// Refunds.
    pub refund_count: i64,
    /// Sum of purchases, minor units.
    pub purchase_total_minor: i64,
    /// Sum of refunds, minor units.
    pub refund_total_minor: i64,
    /// Currency of the amounts.
    pub currency_code: String,
    /// Latest interaction.
    pub last_interaction_at: Option<DateTime<Utc>>,
    /// Interactions.
    pub interaction_count: i64,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
    /// Distinct UTC days with a purchase.
    pub purchase_days: i64,
    /// Distinct Monday-to-Sunday weeks with a purchase.
    pub purchase_weeks: i64,
    /// Purchases on the first purchase day.
    pub first_day_purchase_minor: i64,
    /// Purchases in the first purchase week.
    pub first_week_purchase_minor: i64,
    /// Margin of every change applied, refunds subtracted.
    pub margin_total_minor: i64,
    /// Yearly wallet estimate from the customer's profile.
    pub wallet_estimate_minor: Option<i64>,
}

impl ScoreRow {
    /// Purchases less refunds.
    pub fn net_spend(&self) -> i64 {
        self.purchase_total_minor
            .saturating_sub(self.refund_total_minor)
    }
}

impl<'r, R> FromRow<'r, R> for ScoreRow
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    Id: Decode<'r, R::Database> + Type<R::Database>,
    Time: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(r: &'r R) -> Result<Self, sqlx::Error> {
        let time = |c: &str| Ok::<_, sqlx::Error>(r.try_get::<Option<Time>, _>(c)?.map(|t| t.0));
        Ok(ScoreRow {
            customer_id: r.try_get::<Id, _>("customer_id")?.0,
            version: r.try_get("version")?,
            first_purchase_at: time("first_purchase_at")?,
            last_purchase_at: time("last_purchase_at")?,
            purchase_count: r.try_get("purchase_count")?,
            refund_count: r.try_get("refund_count")?,
            purchase_total_minor: r.try_get("purchase_total_minor")?,
            refund_total_minor: r.try_get("refund_total_minor")?,
            currency_code: r.try_get("currency_code")?,
            last_interaction_at: time("last_interaction_at")?,
            interaction_count: r.try_get("interaction_count")?,
            updated_at: r.try_get::<Time, _>("updated_at")?.0,
            purchase_days: r.try_get("purchase_days")?,
            purchase_weeks: r.try_get("purchase_weeks")?,
            first_day_purchase_minor: r.try_get("first_day_purchase_minor")?,
            first_week_purchase_minor: r.try_get("first_week_purchase_minor")?,
            margin_total_minor: r.try_get("margin_total_minor")?,
            wallet_estimate_minor: r.try_get("wallet_estimate_minor")?,
        })
    }
}

/// One month of a customer's activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRow {
    /// "YYYY-MM".
    pub month: String,
    /// Purchases less refunds, minor units.
    pub net: i64,
    /// Margin, refunds subtracted, minor units.
    pub margin: i64,
    /// Purchases.
    pub purchases: i64,
}

/// What rules' actions set on a customer (SetTier, Tag), read with the score
/// it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    /// Tier shown instead of the computed one.
    pub tier: Option<String>,
    /// "rule <id> v<version>".
    pub origin: Option<String>,
    /// Sorted, unique.
    pub tags: Vec<String>,
}

/// A score as stored: aggregates, every month with activity (oldest first)
/// and the marks rules set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScore {
    /// The aggregates.
    pub row: ScoreRow,
    /// Months with activity, oldest first.
    pub months: Vec<MonthRow>,
    /// Tier override and tags.
    pub marks: Marks,
}

/// What applying a call's changes did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The ids of the changes applied for the first time.
    pub fresh: std::collections::HashSet<String>,
    /// The new state of every changed customer.
    pub scores: Vec<StoredScore>,
}
