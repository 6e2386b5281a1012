//! Changes delivered by ingestion's outbox relay, validated at the edge into
//! [`Change`]s (a bad change is refused on its own).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_kit::{
    FieldErrors,
    domain::{self, CurrencyCode},
};
use rapport_proto::v1::{ChangeEvent, TransactionChange, TransactionKind, change_event};
use uuid::Uuid;

use crate::config::Settings;

/// Most changes accepted in one call (the relay's largest batch).
pub const MAX_CHANGES: usize = 5_000;
/// Longest category accepted, in bytes (as ingestion accepts).
pub const MAX_CATEGORY_LEN: usize = 128;

/// One validated change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Idempotency key, unique per tenant.
    pub id: String,
    /// Whose aggregates it moves.
    pub customer_id: Uuid,
    /// What happened.
    pub kind: ChangeKind,
}

/// A purchase or refund as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Txn {
    /// When.
    pub at: DateTime<Utc>,
    /// Minor units, not negative.
    pub amount: i64,
    /// The transaction's own margin, when the source system knows it.
    pub margin_minor: Option<i64>,
    /// The transaction's cost, when known (margin is then amount less cost).
    pub cost_minor: Option<i64>,
    /// Product category, for category margin rates; may be empty.
    pub category: String,
}

impl Txn {
    /// The margin this transaction contributes under `settings`: its own
    /// margin, else amount less cost, else amount times the category's (or
    /// the default) margin rate, rounded to the minor unit.
    pub fn margin(&self, settings: &Settings) -> i64 {
        if let Some(m) = self.margin_minor {
            return m;
        }
        if let Some(c) = self.cost_minor {
            return self.amount.saturating_sub(c);
        }
        (self.amount as f64 * settings.margin_rate(&self.category)).round() as i64
    }
}

/// What a change records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// A purchase.
    Purchase(Txn),
    /// A refund: its amount and margin are taken back.
    Refund(Txn),
    /// Any interaction (visit, email opened, ...).
    Interaction {
        /// When.
        at: DateTime<Utc>,
        /// Its kind, e.g. "cart_abandoned", for rules.
        kind: String,
        /// Its properties as ingested, for rules.
        properties: BTreeMap<String, String>,
    },
}

/// Checks a call's changes one by one: a bad change is refused on its own
/// (the caller dead-letters it) with a reason naming each bad field, and the
/// rest go on. Only a call of more than [`MAX_CHANGES`] is refused whole.
/// Money must be in the tenant's currency (ingestion guarantees it; anything
/// else is a relay bug).
pub fn validate(
    events: &[ChangeEvent],
    currency: CurrencyCode,
    now: DateTime<Utc>,
) -> Result<Vec<Result<Change, String>>, FieldErrors> {
    if events.len() > MAX_CHANGES {
        return Err(FieldErrors::one(
            "changes",
            format!(
                "{} changes sent; at most {MAX_CHANGES} per call",
                events.len()
            ),
        ));
    }
    Ok(events.iter().map(|e| check(e, currency, now)).collect())
}

/// One change checked, or why it cannot be applied: each bad field and its
/// reason ("transaction.amount_minor: must not be negative").
pub fn check(
    e: &ChangeEvent,
    currency: CurrencyCode,
    now: DateTime<Utc>,
) -> Result<Change, String> {
    let mut errors = FieldErrors::new();
    let id = errors.check("id", domain::parse_id(&e.id).map(str::to_owned));
    let customer_id = errors.check("customer_id", domain::parse_uuid(&e.customer_id));
    let kind = match &e.change {
        None => {
            errors.add(
                "change",
                "required: a transaction or an interaction (the relay sends neither for a \
                 change too large to deliver)",
            );
            None
        }
        Some(change_event::Change::Transaction(t)) => transaction(t, currency, now, &mut errors),
        Some(change_event::Change::Interaction(x)) => {
            let kind = errors.check(
                "interaction.kind",
                domain::parse_id(&x.kind).map(str::to_owned),
            );
            let at = errors.check(
                "interaction.occurred_at",
                domain::parse_event_time(x.occurred_at.as_ref(), now),
            );
            kind.zip(at).map(|(kind, at)| ChangeKind::Interaction {
                at,
                kind,
                properties: x.properties.clone().into_iter().collect(),
            })
        }
    };
    match (id, customer_id, kind) {
        (Some(id), Some(customer_id), Some(kind)) if errors.is_empty() => Ok(Change {
            id,
            customer_id,
            kind,
        }),
        _ => Err(errors
            .violations()
            .iter()
            .map(|(field, reason)| format!("{field}: {reason}"))
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

/// A transaction change's fields checked, each bad one added to `errors`.
fn transaction(
    t: &TransactionChange,
    currency: CurrencyCode,
    now: DateTime<Utc>,
    errors: &mut FieldErrors,
) -> Option<ChangeKind> {
    let at = errors.check(
        "transaction.occurred_at",
        domain::parse_event_time(t.occurred_at.as_ref(), now),
    );
    let amount = errors.check(
        "transaction.amount_minor",
        domain::parse_amount_minor(t.amount_minor),
    );
    let code = CurrencyCode::parse(&t.currency_code).and_then(|c| {
        if c == currency {
            Ok(c)
        } else {
            Err(format!("{c} is not the tenant's currency {currency}"))
        }
    });
    errors.check("transaction.currency_code", code);
    let purchase = match TransactionKind::try_from(t.kind) {
        Ok(TransactionKind::Purchase) => Some(true),
        Ok(TransactionKind::Refund) => Some(false),
        _ => {
            errors.add("transaction.kind", "must be PURCHASE or REFUND");
            None
        }
    };
    let category = errors.check(
        "transaction.category",
        domain::check_text(&t.category, MAX_CATEGORY_LEN).map(str::to_owned),
    );
    let (purchase, at, amount, category) = (purchase?, at?, amount?, category?);
    let txn = Txn {
        at,
        amount,
        margin_minor: t.margin_minor,
        cost_minor: t.cost_minor,
        category,
    };
    Some(if purchase {
        ChangeKind::Purchase(txn)
    } else {
        ChangeKind::Refund(txn)
    })
}

#[cfg(test)]
mod tests;
