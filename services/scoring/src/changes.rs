//! Changes delivered by ingestion's outbox relay: validated at the edge into
//! [`Change`]s, then folded into one [`Delta`] per customer so that each call
//! writes every customer once.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use rapport_kit::{
    FieldErrors,
    domain::{self, CurrencyCode},
};
use rapport_proto::v1::{ChangeEvent, TransactionKind, change_event};
use uuid::Uuid;

/// Most changes accepted in one call (the relay's largest batch).
pub const MAX_CHANGES: usize = 5_000;

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

/// What a change records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A purchase of `amount` minor units.
    Purchase {
        /// When.
        at: DateTime<Utc>,
        /// Minor units, not negative.
        amount: i64,
    },
    /// A refund of `amount` minor units.
    Refund {
        /// When.
        at: DateTime<Utc>,
        /// Minor units, not negative.
        amount: i64,
    },
    /// Any interaction (visit, email opened, ...).
    Interaction {
        /// When.
        at: DateTime<Utc>,
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
                match (kind, at, amount) {
                    (Some(true), Some(at), Some(amount)) => {
                        Some(ChangeKind::Purchase { at, amount })
                    }
                    (Some(false), Some(at), Some(amount)) => {
                        Some(ChangeKind::Refund { at, amount })
                    }
                    _ => None,
                }
            }
            Some(change_event::Change::Interaction(x)) => {
                errors.check(&path("interaction.kind"), domain::parse_id(&x.kind));
                errors
                    .check(
                        &path("interaction.occurred_at"),
                        domain::parse_event_time(x.occurred_at.as_ref(), now),
                    )
                    .map(|at| ChangeKind::Interaction { at })
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
    /// Latest interaction among the changes.
    pub last_interaction_at: Option<DateTime<Utc>>,
    /// Interactions added.
    pub interaction_count: i64,
    /// Net added per month ("YYYY-MM"): purchases less refunds.
    pub months: BTreeMap<String, i64>,
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
/// first and last purchase correctly.
pub fn aggregate<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Vec<Delta> {
    let mut by_customer: BTreeMap<Uuid, Delta> = BTreeMap::new();
    for c in changes {
        let d = by_customer.entry(c.customer_id).or_insert_with(|| Delta {
            customer_id: c.customer_id,
            ..Delta::default()
        });
        match c.kind {
            ChangeKind::Purchase { at, amount } => {
                d.first_purchase_at = earliest(d.first_purchase_at, at);
                d.last_purchase_at = latest(d.last_purchase_at, at);
                d.purchase_count += 1;
                d.purchase_total = d.purchase_total.saturating_add(amount);
                let m = d.months.entry(domain::month_key(at)).or_default();
                *m = m.saturating_add(amount);
            }
            ChangeKind::Refund { at, amount } => {
                d.refund_count += 1;
                d.refund_total = d.refund_total.saturating_add(amount);
                let m = d.months.entry(domain::month_key(at)).or_default();
                *m = m.saturating_sub(amount);
            }
            ChangeKind::Interaction { at } => {
                d.last_interaction_at = latest(d.last_interaction_at, at);
                d.interaction_count += 1;
            }
        }
    }
    by_customer.into_values().collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rapport_proto::v1::{InteractionChange, TransactionChange};

    use super::*;

    fn ts(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
        Some(domain::chrono_to_timestamp(t))
    }

    fn eur() -> CurrencyCode {
        CurrencyCode::parse("EUR").unwrap()
    }

    fn txn(
        id: &str,
        customer: Uuid,
        kind: TransactionKind,
        at: DateTime<Utc>,
        amount: i64,
    ) -> ChangeEvent {
        ChangeEvent {
            id: id.into(),
            customer_id: customer.to_string(),
            change: Some(change_event::Change::Transaction(TransactionChange {
                kind: kind as i32,
                occurred_at: ts(at),
                amount_minor: amount,
                currency_code: "EUR".into(),
                ..Default::default()
            })),
        }
    }

    #[test]
    fn folds_out_of_order_changes_per_customer() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Utc::now();
        let t = |m: u32, d: u32| Utc.with_ymd_and_hms(2025, m, d, 10, 0, 0).unwrap();
        let events = vec![
            txn("t1", a, TransactionKind::Purchase, t(5, 3), 1_000),
            txn("t2", a, TransactionKind::Purchase, t(2, 1), 500),
            txn("t3", a, TransactionKind::Refund, t(5, 20), 200),
            txn("t4", b, TransactionKind::Purchase, t(3, 9), 70),
            ChangeEvent {
                id: "e1".into(),
                customer_id: a.to_string(),
                change: Some(change_event::Change::Interaction(InteractionChange {
                    kind: "visit".into(),
                    occurred_at: ts(t(6, 1)),
                })),
            },
        ];
        let changes = validate(&events, eur(), now).unwrap();
        let deltas = aggregate(&changes);
        assert_eq!(deltas.len(), 2);
        let da = deltas.iter().find(|d| d.customer_id == a).unwrap();
        assert_eq!(da.first_purchase_at, Some(t(2, 1)));
        assert_eq!(da.last_purchase_at, Some(t(5, 3)));
        assert_eq!((da.purchase_count, da.purchase_total), (2, 1_500));
        assert_eq!((da.refund_count, da.refund_total), (1, 200));
        assert_eq!(
            (da.interaction_count, da.last_interaction_at),
            (1, Some(t(6, 1)))
        );
        assert_eq!(da.months.get("2025-05"), Some(&800));
        assert_eq!(da.months.get("2025-02"), Some(&500));
        assert!(
            deltas
                .windows(2)
                .all(|w| w[0].customer_id < w[1].customer_id)
        );
    }

    #[test]
    fn bad_changes_name_their_fields() {
        let now = Utc::now();
        let a = Uuid::new_v4();
        let mut bad_kind = txn("t1", a, TransactionKind::Unspecified, now, 5);
        let mut usd = txn("t2", a, TransactionKind::Purchase, now, -1);
        if let Some(change_event::Change::Transaction(t)) = &mut usd.change {
            t.currency_code = "USD".into();
        }
        bad_kind.customer_id = "nope".into();
        let events = vec![
            txn("ok", a, TransactionKind::Purchase, now, 5),
            bad_kind,
            usd,
            ChangeEvent {
                id: String::new(),
                customer_id: a.to_string(),
                change: None,
            },
        ];
        let errors = validate(&events, eur(), now).unwrap_err();
        let fields: Vec<&str> = errors
            .violations()
            .iter()
            .map(|(f, _)| f.as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "changes[1].customer_id",
                "changes[1].transaction.kind",
                "changes[2].transaction.amount_minor",
                "changes[2].transaction.currency_code",
                "changes[3].id",
                "changes[3].change",
            ]
        );
    }

    #[test]
    fn repeats_within_a_call_count_once() {
        let now = Utc::now();
        let a = Uuid::new_v4();
        let events: Vec<_> = ["x", "y", "x"]
            .iter()
            .map(|id| txn(id, a, TransactionKind::Purchase, now, 1))
            .collect();
        let changes = dedupe(validate(&events, eur(), now).unwrap());
        assert_eq!(
            changes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["x", "y"]
        );
    }
}
