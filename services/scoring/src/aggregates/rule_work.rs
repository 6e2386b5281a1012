//! The work rows ApplyChanges writes for the rules worker, in its own
//! transaction (so a committed change is never missed by the rules): one per
//! changed customer and score version, one per change event.

use std::collections::BTreeMap;

use rapport_kit::domain::CurrencyCode;
use uuid::Uuid;

use super::changes::{Change, ChangeKind};

/// The event a rule evaluates against; all empty outside EVENT rules.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EventFacts {
    /// Unique per tenant: the change id or the membership event id.
    pub id: String,
    /// "purchase", "refund", an interaction kind, "segment_entered", ...
    pub kind: String,
    /// Major units.
    pub amount: f64,
    /// Product category.
    pub category: String,
    /// As ingested.
    pub properties: BTreeMap<String, String>,
    /// For segment events: the segment entered or left.
    pub segment: String,
    /// For tier events: the tier entered or left.
    pub tier: String,
    /// For entered/left events: the one before.
    pub previous: String,
}

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
                amount: t.amount as f64 / 10f64.powi(i32::from(exponent)),
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
