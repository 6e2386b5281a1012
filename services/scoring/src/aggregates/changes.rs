//! Changes delivered by ingestion's outbox relay, validated at the edge into
//! [`Change`]s (a bad change refuses the whole call).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use rapport_kit::{
    FieldErrors,
    domain::{self, CurrencyCode},
};
use rapport_proto::v1::{ChangeEvent, TransactionKind, change_event};
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

/// Validates a call's changes. Any bad change refuses the whole call, naming
/// each bad field, so nothing is half-applied. Money must be in the tenant's
/// currency (ingestion guarantees it; anything else is a relay bug).
pub fn validate(
    events: &[ChangeEvent],
    currency: CurrencyCode,
    now: DateTime<Utc>,
) -> Result<Vec<Change>, FieldErrors> {
    let mut errors = FieldErrors::new();
    if events.len() > MAX_CHANGES {
        errors.add(
            "changes",
            format!(
                "{} changes sent; at most {MAX_CHANGES} per call",
                events.len()
            ),
        );
        return Err(errors);
    }
    let mut changes = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let path = |field: &str| format!("changes[{i}].{field}");
        let id = errors.check(&path("id"), domain::parse_id(&e.id).map(str::to_owned));
        let customer_id = errors.check(&path("customer_id"), domain::parse_uuid(&e.customer_id));
        let kind = match &e.change {
            None => {
                errors.add(path("change"), "required: a transaction or an interaction");
                None
            }
            Some(change_event::Change::Transaction(t)) => {
                let at = errors.check(
                    &path("transaction.occurred_at"),
                    domain::parse_event_time(t.occurred_at.as_ref(), now),
                );
                let amount = errors.check(
                    &path("transaction.amount_minor"),
                    domain::parse_amount_minor(t.amount_minor),
                );
                let code = CurrencyCode::parse(&t.currency_code).and_then(|c| {
                    if c == currency {
                        Ok(c)
                    } else {
                        Err(format!("{c} is not the tenant's currency {currency}"))
                    }
                });
                errors.check(&path("transaction.currency_code"), code);
                let kind = match TransactionKind::try_from(t.kind) {
                    Ok(TransactionKind::Purchase) => Some(true),
                    Ok(TransactionKind::Refund) => Some(false),
                    _ => {
                        errors.add(path("transaction.kind"), "must be PURCHASE or REFUND");
                        None
                    }
                };
                let category = errors.check(
                    &path("transaction.category"),
                    domain::check_text(&t.category, MAX_CATEGORY_LEN).map(str::to_owned),
                );
                match (kind, at, amount, category) {
                    (Some(purchase), Some(at), Some(amount), Some(category)) => {
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
                    _ => None,
                }
            }
            Some(change_event::Change::Interaction(x)) => {
                let kind = errors.check(
                    &path("interaction.kind"),
                    domain::parse_id(&x.kind).map(str::to_owned),
                );
                let at = errors.check(
                    &path("interaction.occurred_at"),
                    domain::parse_event_time(x.occurred_at.as_ref(), now),
                );
                kind.zip(at).map(|(kind, at)| ChangeKind::Interaction {
                    at,
                    kind,
                    properties: x.properties.clone().into_iter().collect(),
                })
            }
        };
        if let (Some(id), Some(customer_id), Some(kind)) = (id, customer_id, kind) {
            changes.push(Change {
                id,
                customer_id,
                kind,
            });
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}

/// Drops repeats of a change id within one call (the first one counts).
pub fn dedupe(changes: Vec<Change>) -> Vec<Change> {
    let mut seen = HashSet::with_capacity(changes.len());
    changes
        .into_iter()
        .filter(|c| seen.insert(c.id.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
