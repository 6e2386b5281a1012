//! The change events the outbox carries to scoring, one per stored row. The
//! id ("txn:<uuid>", "evt:<uuid>") is scoring's idempotency key.

use prost::Message;
use rapport_kit::domain::chrono_to_timestamp;
use rapport_proto::v1::{ChangeEvent, InteractionChange, TransactionChange, change_event::Change};
use uuid::Uuid;

use crate::validate::{Row, event::EventBody, transaction::TxnBody};

/// The encoded change for a new transaction.
pub(crate) fn transaction(row: &Row<Uuid, TxnBody>) -> Vec<u8> {
    let b = &row.body;
    ChangeEvent {
        id: format!("txn:{}", row.id),
        customer_id: row.customer.to_string(),
        change: Some(Change::Transaction(TransactionChange {
            kind: b.kind.to_proto() as i32,
            occurred_at: Some(chrono_to_timestamp(row.occurred_at)),
            amount_minor: b.amount_minor,
            currency_code: b.currency.as_str().to_owned(),
            margin_minor: b.margin_minor,
            cost_minor: b.cost_minor,
            category: b.category.clone(),
        })),
    }
    .encode_to_vec()
}

/// The encoded change for a new interaction event.
pub(crate) fn event(row: &Row<Uuid, EventBody>) -> Vec<u8> {
    ChangeEvent {
        id: format!("evt:{}", row.id),
        customer_id: row.customer.to_string(),
        change: Some(Change::Interaction(InteractionChange {
            kind: row.body.kind.clone(),
            occurred_at: Some(chrono_to_timestamp(row.occurred_at)),
            properties: properties(&row.body.properties),
        })),
    }
    .encode_to_vec()
}

/// The stored JSON object as text values (strings as they are, anything else
/// in its JSON form), so rules can read them.
fn properties(json: &str) -> std::collections::HashMap<String, String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(json) else {
        return Default::default();
    };
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::properties;

    #[test]
    fn properties_reach_scoring_as_text() {
        let p = properties(r#"{"appointment_at":"2026-05-01T10:00:00Z","seats":2,"vip":true}"#);
        assert_eq!(p["appointment_at"], "2026-05-01T10:00:00Z");
        assert_eq!(p["seats"], "2");
        assert_eq!(p["vip"], "true");
        assert!(properties("not json").is_empty());
    }
}
