//! Storage of per-customer aggregates: `customer_scores` (one row per
//! customer), `customer_monthly` (net, margin and purchases per month),
//! `customer_days` (purchases per day) and `applied_changes` (the change ids
//! already counted). Every query is scoped to one tenant.

mod details;
pub mod models;
mod postgres;
mod sqlite;
mod wallets;

use chrono::{DateTime, Utc};
use rapport_kit::Db;
use uuid::Uuid;

use crate::{calc::Summary, changes::Change};

/// The columns of a score row, in every backend.
const COLUMNS: &str = "customer_id, version, first_purchase_at, last_purchase_at, purchase_count, \
     refund_count, purchase_total_minor, refund_total_minor, currency_code, \
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
    /// Changes applied for the first time.
    pub applied: u32,
    /// The new state of every changed customer.
    pub scores: Vec<StoredScore>,
}

/// Measures ListScores orders by, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Purchases less refunds.
    NetSpend,
    /// Number of purchases.
    PurchaseCount,
    /// Latest purchase; customers without purchases come last.
    LastPurchase,
}

impl Order {
    /// Short name used in page tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::NetSpend => "net",
            Order::PurchaseCount => "count",
            Order::LastPurchase => "last",
        }
    }

    /// The measure of `row` this order sorts on; `None` only for a customer
    /// without purchases under [`Order::LastPurchase`].
    pub fn value_of(self, row: &ScoreRow) -> Option<i64> {
        match self {
            Order::NetSpend => Some(row.net_spend()),
            Order::PurchaseCount => Some(row.purchase_count),
            Order::LastPurchase => row.last_purchase_at.map(rapport_kit::domain::to_micros),
        }
    }
}

/// Where a page of ListScores starts: after this (value, customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The order's value of the last row served (see [`Order::value_of`]).
    pub value: Option<i64>,
    /// The last row's customer, breaking ties.
    pub customer_id: Uuid,
}

/// The scoring repository.
#[derive(Debug, Clone)]
pub struct ScoreRepo {
    db: Db,
}

impl ScoreRepo {
    /// Wraps the service's pool.
    pub fn new(db: Db) -> Self {
        ScoreRepo { db }
    }

    /// Applies the changes not applied before, all in one transaction, and
    /// returns the new state of each changed customer. `changes` must be free
    /// of repeated ids (see [`crate::changes::dedupe`]). Margins use the
    /// tenant's settings as stored when the transaction runs.
    pub async fn apply(
        &self,
        tenant: Uuid,
        currency: &str,
        changes: &[Change],
        now: DateTime<Utc>,
    ) -> Result<Applied, sqlx::Error> {
        match &self.db {
            Db::Postgres(pool) => postgres::apply(pool, tenant, currency, changes, now).await,
            Db::Sqlite(pool) => sqlite::apply(pool, tenant, currency, changes, now).await,
        }
    }

    /// The scores of those of `ids` that have one, in no particular order.
    pub async fn get_many(
        &self,
        tenant: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<StoredScore>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        match &self.db {
            Db::Postgres(pool) => postgres::get_many(pool, tenant, ids).await,
            Db::Sqlite(pool) => sqlite::get_many(pool, tenant, ids).await,
        }
    }

    /// Stores the marks rules set on `customer` and bumps its score's
    /// version; returns the score to publish.
    pub async fn set_marks(
        &self,
        tenant: Uuid,
        customer: Uuid,
        marks: &Marks,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredScore>, sqlx::Error> {
        match &self.db {
            Db::Postgres(pool) => postgres::set_marks(pool, tenant, customer, marks, now).await,
            Db::Sqlite(pool) => sqlite::set_marks(pool, tenant, customer, marks, now).await,
        }
    }

    /// Up to `limit` scores in `order`, highest first, after `after`.
    pub async fn list(
        &self,
        tenant: Uuid,
        order: Order,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredScore>, sqlx::Error> {
        match &self.db {
            Db::Postgres(pool) => postgres::list(pool, tenant, order, after, limit).await,
            Db::Sqlite(pool) => sqlite::list(pool, tenant, order, after, limit).await,
        }
    }

    /// Up to `limit` scores in customer id order, after `after`: pages of a
    /// scan over every customer that holds no connection between pages.
    pub async fn page(
        &self,
        tenant: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<StoredScore>, sqlx::Error> {
        match &self.db {
            Db::Postgres(pool) => postgres::page(pool, tenant, after, limit).await,
            Db::Sqlite(pool) => sqlite::page(pool, tenant, after, limit).await,
        }
    }

    /// Population figures as of `now`. Reads every score of the tenant (in
    /// net-spend order, streamed, so memory stays flat): O(customers) per call.
    pub async fn summarize(
        &self,
        tenant: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Summary, sqlx::Error> {
        match &self.db {
            Db::Postgres(pool) => postgres::summarize(pool, tenant, now).await,
            Db::Sqlite(pool) => sqlite::summarize(pool, tenant, now).await,
        }
    }
}
