use chrono::TimeZone;
use rapport_proto::v1::{InteractionChange, TransactionChange};

use super::*;
use crate::{
    aggregates::delta::{DayDelta, MonthDelta, aggregate},
    calendar::day_number,
};

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
                properties: Default::default(),
            })),
        },
    ];
    let changes: Vec<Change> = validate(&events, eur(), now)
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let settings = Settings {
        default_margin_rate: 0.3,
        ..Settings::default()
    };
    let deltas = aggregate(&changes, &settings);
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
    let month = |net, margin, purchases| MonthDelta {
        net,
        margin,
        purchases,
    };
    // 30% of 1000 less 30% of 200 in May; 30% of 500 in February.
    assert_eq!(da.months.get("2025-05"), Some(&month(800, 240, 1)));
    assert_eq!(da.months.get("2025-02"), Some(&month(500, 150, 1)));
    assert_eq!(da.margin_total, 390);
    let days: Vec<(i64, DayDelta)> = da.days.iter().map(|(d, v)| (*d, *v)).collect();
    let day = |t| day_number(t);
    assert_eq!(
        days,
        [
            (
                day(t(2, 1)),
                DayDelta {
                    purchases: 1,
                    amount: 500
                }
            ),
            (
                day(t(5, 3)),
                DayDelta {
                    purchases: 1,
                    amount: 1_000
                }
            ),
        ]
    );
    assert!(
        deltas
            .windows(2)
            .all(|w| w[0].customer_id < w[1].customer_id)
    );
}

#[test]
fn margins_come_from_the_transaction_then_the_rates() {
    let settings = Settings {
        default_margin_rate: 0.5,
        category_margin_rates: [("books".to_owned(), 0.2)].into_iter().collect(),
        ..Settings::default()
    };
    let txn = |margin_minor, cost_minor, category: &str| Txn {
        at: Utc::now(),
        amount: 1_005,
        margin_minor,
        cost_minor,
        category: category.to_owned(),
    };
    assert_eq!(txn(Some(-40), Some(1), "books").margin(&settings), -40);
    assert_eq!(txn(None, Some(905), "books").margin(&settings), 100);
    assert_eq!(txn(None, None, "books").margin(&settings), 201);
    // 502.5 rounds away from zero.
    assert_eq!(txn(None, None, "toys").margin(&settings), 503);
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
    let checked = validate(&events, eur(), now).unwrap();
    assert!(checked[0].is_ok());
    let expected: [&[&str]; 3] = [
        &["customer_id", "transaction.kind"],
        &["transaction.amount_minor", "transaction.currency_code"],
        &["id", "change"],
    ];
    for (change, fields) in checked[1..].iter().zip(expected) {
        let reason = change.as_ref().unwrap_err();
        // Each bad field named, in order, with its reason.
        assert!(reason.starts_with(&format!("{}: ", fields[0])), "{reason}");
        assert!(reason.contains(&format!("; {}: ", fields[1])), "{reason}");
    }
    let too_many = vec![events[0].clone(); MAX_CHANGES + 1];
    let errors = validate(&too_many, eur(), now).unwrap_err();
    assert_eq!(errors.violations()[0].0, "changes");
}
