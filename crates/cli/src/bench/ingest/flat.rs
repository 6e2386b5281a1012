//! A generated transaction as ingestion's tables hold it, so the baselines
//! write the same rows the service would.

use chrono::{DateTime, Utc};
use prost::Message;
use rapport_proto::v1::{
    ChangeEvent, Transaction, TransactionChange, change_event::Change, transaction::Amount,
};
use uuid::Uuid;

/// A transaction as the tables hold it.
pub(super) struct Flat {
    pub(super) id: Uuid,
    pub(super) customer: Uuid,
    pub(super) source: String,
    pub(super) external_id: String,
    pub(super) kind: &'static str,
    pub(super) at: DateTime<Utc>,
    pub(super) amount: i64,
    pub(super) margin: Option<i64>,
    pub(super) category: String,
    /// The encoded change the outbox carries.
    pub(super) change: Vec<u8>,
}

impl Flat {
    /// The row of `t`, ingested at `now`.
    pub(super) fn of(t: &Transaction, now: DateTime<Utc>) -> Flat {
        let customer_key = t
            .customer
            .as_ref()
            .map(|c| c.external_id.as_str())
            .unwrap_or_default();
        // Stable ids, as the service would have resolved (values do not
        // matter to the cost of the load).
        let customer = Uuid::new_v5(&Uuid::NAMESPACE_OID, customer_key.as_bytes());
        let id = Uuid::new_v4();
        let at = t
            .occurred_at
            .as_ref()
            .and_then(|ts| DateTime::from_timestamp(ts.seconds, 0))
            .unwrap_or(now);
        let amount = match t.amount {
            Some(Amount::AmountMinor(m)) => m,
            _ => 0,
        };
        let refund = t.kind == rapport_proto::v1::TransactionKind::Refund as i32;
        let change = ChangeEvent {
            id: format!("txn:{id}"),
            customer_id: customer.to_string(),
            change: Some(Change::Transaction(TransactionChange {
                kind: t.kind,
                occurred_at: t.occurred_at,
                amount_minor: amount,
                currency_code: t.currency_code.clone(),
                margin_minor: t.margin_minor,
                cost_minor: t.cost_minor,
                category: t.category.clone(),
            })),
        }
        .encode_to_vec();
        Flat {
            id,
            customer,
            source: t.source.clone(),
            external_id: t.external_id.clone(),
            kind: if refund { "refund" } else { "purchase" },
            at,
            amount,
            margin: t.margin_minor,
            category: t.category.clone(),
            change,
        }
    }
}
