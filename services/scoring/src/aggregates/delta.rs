//! A call's changes folded into one [`Delta`] per customer, so that each
//! call writes every customer once.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_kit::domain;
use uuid::Uuid;

use super::changes::{Change, ChangeKind, Txn};
use crate::{calendar::day_number, config::Settings};

/// What one call adds to one customer's month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonthDelta {
    /// Purchases less refunds.
    pub net: i64,
    /// Margin of purchases less margin of refunds.
    pub margin: i64,
    /// Purchases.
    pub purchases: i64,
}

/// What one call adds to one customer's purchase day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayDelta {
    /// Purchases.
    pub purchases: i64,
    /// Their amounts.
    pub amount: i64,
}

/// What one call adds to one customer's product category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryDelta {
    /// Purchases (refunds do not take them back: a refund does not undo
    /// having bought in the category).
    pub purchases: i64,
    /// Purchases less refunds.
    pub net: i64,
}

/// What one call adds to one customer's aggregates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    /// The customer.
    pub customer_id: Uuid,
    /// Earliest purchase among the changes.
    pub first_purchase_at: Option<DateTime<Utc>>,
    /// Latest purchase among the changes.
    pub last_purchase_at: Option<DateTime<Utc>>,
    /// Purchases added.
    pub purchase_count: i64,
    /// Refunds added.
    pub refund_count: i64,
    /// Purchase amounts added.
    pub purchase_total: i64,
    /// Refund amounts added.
    pub refund_total: i64,
    /// Margin added (refunds subtract theirs).
    pub margin_total: i64,
    /// Latest interaction among the changes.
    pub last_interaction_at: Option<DateTime<Utc>>,
    /// Interactions added.
    pub interaction_count: i64,
    /// Added per month ("YYYY-MM").
    pub months: BTreeMap<String, MonthDelta>,
    /// Purchases added per UTC day number.
    pub days: BTreeMap<i64, DayDelta>,
    /// Added per product category (trimmed); transactions without one are
    /// left out.
    pub categories: BTreeMap<String, CategoryDelta>,
}

impl Delta {
    /// Adds a purchase's amount and margin to its month, and its margin to
    /// the total; a refund takes them back. Saturating either way.
    fn add_value(&mut self, t: &Txn, margin: i64, refund: bool) {
        let add = |total: i64, value: i64| {
            if refund {
                total.saturating_sub(value)
            } else {
                total.saturating_add(value)
            }
        };
        self.margin_total = add(self.margin_total, margin);
        let m = self.months.entry(domain::month_key(t.at)).or_default();
        m.net = add(m.net, t.amount);
        m.margin = add(m.margin, margin);
        if !refund {
            m.purchases += 1;
        }
        // Trimmed, so "books " and "books" are one category; blank is none.
        let category = t.category.trim();
        if !category.is_empty() {
            let c = self.categories.entry(category.to_owned()).or_default();
            c.net = add(c.net, t.amount);
            if !refund {
                c.purchases += 1;
            }
        }
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.min(b)))
}

fn latest(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.max(b)))
}

/// Folds changes into one delta per customer, ordered by customer id (a
/// fixed order in which concurrent calls lock rows, so they cannot deadlock).
/// Times are compared, not taken in arrival order: late transactions move
/// first and last purchase correctly. Margins use `settings`, the settings in
/// force when the changes are applied.
pub fn aggregate<'a>(
    changes: impl IntoIterator<Item = &'a Change>,
    settings: &Settings,
) -> Vec<Delta> {
    let mut by_customer: BTreeMap<Uuid, Delta> = BTreeMap::new();
    for c in changes {
        let d = by_customer.entry(c.customer_id).or_insert_with(|| Delta {
            customer_id: c.customer_id,
            ..Delta::default()
        });
        match &c.kind {
            ChangeKind::Purchase(t) => {
                d.first_purchase_at = earliest(d.first_purchase_at, t.at);
                d.last_purchase_at = latest(d.last_purchase_at, t.at);
                d.purchase_count += 1;
                d.purchase_total = d.purchase_total.saturating_add(t.amount);
                let day = d.days.entry(day_number(t.at)).or_default();
                day.purchases += 1;
                day.amount = day.amount.saturating_add(t.amount);
                d.add_value(t, t.margin(settings), false);
            }
            ChangeKind::Refund(t) => {
                d.refund_count += 1;
                d.refund_total = d.refund_total.saturating_add(t.amount);
                d.add_value(t, t.margin(settings), true);
            }
            ChangeKind::Interaction { at, .. } => {
                d.last_interaction_at = latest(d.last_interaction_at, *at);
                d.interaction_count += 1;
            }
        }
    }
    by_customer.into_values().collect()
}
