//! The work rows ApplyChanges writes for the rules worker, in its own
//! transaction (so a committed change is never missed by the rules): one per
//! changed customer and score version, one per change event.

use rapport_kit::domain::CurrencyCode;
use uuid::Uuid;

use super::env::{EventFacts, major};
use crate::changes::{Change, ChangeKind};

/// A work row: id, customer, event JSON (`None` for a score change).
pub type QueueRow = (String, Uuid, Option<String>);

/// The rows for the applied `changes` (only those in `fresh`) and the new
/// score versions.
pub fn rows<'a>(
    changes: impl IntoIterator<Item = &'a Change>,
    versions: impl IntoIterator<Item = (Uuid, i64)>,
    currency: &str,
) -> Vec<QueueRow> {
    let exponent = CurrencyCode::parse(currency).map_or(2, |c| c.exponent());
    let mut out: Vec<QueueRow> = versions
        .into_iter()
        .map(|(customer, version)| (format!("score:{customer}:{version}"), customer, None))
        .collect();
    for c in changes {
        let facts = match &c.kind {
            ChangeKind::Purchase(t) | ChangeKind::Refund(t) => EventFacts {
                id: c.id.clone(),
                kind: if matches!(c.kind, ChangeKind::Purchase(_)) {
                    "purchase".into()
                } else {
                    "refund".into()
                },
                amount: major(t.amount, exponent),
                category: t.category.clone(),
                ..EventFacts::default()
            },
            ChangeKind::Interaction {
                kind, properties, ..
            } => EventFacts {
                id: c.id.clone(),
                kind: kind.clone(),
                properties: properties.clone(),
                ..EventFacts::default()
            },
        };
        let json = serde_json::to_string(&facts).ok();
        out.push((c.id.clone(), c.customer_id, json));
    }
    out
}
