use super::*;

fn month(y: i32, m: u32) -> Month {
    Month::from_year_month(y, m).unwrap()
}

fn purchase(m: Month, amount: f64) -> Transaction<'static> {
    Transaction {
        month: m,
        kind: TransactionKind::Purchase,
        amount,
        margin: None,
        cost: None,
        category: None,
    }
}

fn rates() -> MarginRates {
    MarginRates::new(0.2)
        .unwrap()
        .with_category("electronics", 0.1)
        .unwrap()
}

#[test]
fn margin_follows_the_order_of_what_is_known() {
    let base = purchase(month(2025, 1), 100.0);
    let own = Transaction {
        margin: Some(35.0),
        cost: Some(90.0),
        ..base
    };
    assert_eq!(transaction_margin(&own, &rates()).unwrap(), 35.0);
    let costed = Transaction {
        cost: Some(70.0),
        ..base
    };
    assert_eq!(transaction_margin(&costed, &rates()).unwrap(), 30.0);
    let categorised = Transaction {
        category: Some("electronics"),
        ..base
    };
    assert_eq!(transaction_margin(&categorised, &rates()).unwrap(), 10.0);
    let unknown_category = Transaction {
        category: Some("garden"),
        ..base
    };
    assert_eq!(
        transaction_margin(&unknown_category, &rates()).unwrap(),
        20.0
    );
    assert_eq!(transaction_margin(&base, &rates()).unwrap(), 20.0);
}

#[test]
fn refunds_take_margin_back_by_the_same_rule() {
    let refund = |margin, cost, category| Transaction {
        kind: TransactionKind::Refund,
        margin,
        cost,
        category,
        ..purchase(month(2025, 1), 50.0)
    };
    let r = rates();
    assert_eq!(
        transaction_margin(&refund(Some(12.0), None, None), &r).unwrap(),
        -12.0
    );
    assert_eq!(
        transaction_margin(&refund(None, Some(45.0), None), &r).unwrap(),
        -5.0
    );
    assert_eq!(
        transaction_margin(&refund(None, None, Some("electronics")), &r).unwrap(),
        -5.0
    );
    assert_eq!(
        transaction_margin(&refund(None, None, None), &r).unwrap(),
        -10.0
    );
}

#[test]
fn bad_amounts_and_rates_are_refused() {
    let r = rates();
    let negative = purchase(month(2025, 1), -1.0);
    assert!(matches!(
        transaction_margin(&negative, &r),
        Err(ProfitError::InvalidInput {
            field: "amount",
            ..
        })
    ));
    let nan_cost = Transaction {
        cost: Some(f64::NAN),
        ..purchase(month(2025, 1), 1.0)
    };
    assert!(transaction_margin(&nan_cost, &r).is_err());
    assert!(MarginRates::new(1.5).is_err());
    assert!(MarginRates::new(f64::NAN).is_err());
    assert_eq!(
        MarginRates::new(0.1).unwrap().with_category("", 0.2),
        Err(ProfitError::EmptyCategory)
    );
    let err = profit_contribution(&[], &r, -5.0, month(2025, 1)).unwrap_err();
    assert!(err.to_string().contains("cost_to_serve_per_month"), "{err}");
}

#[test]
fn months_run_from_the_first_purchase_and_charge_cost_to_serve() {
    // Margins at the 20% fallback: March 40, April nothing, May 60 - 10 (refund of 50).
    let refund = Transaction {
        kind: TransactionKind::Refund,
        ..purchase(month(2025, 5), 50.0)
    };
    let earlier_refund = Transaction {
        kind: TransactionKind::Refund,
        ..purchase(month(2025, 1), 500.0)
    };
    let later = purchase(month(2025, 7), 1000.0);
    let transactions = [
        purchase(month(2025, 3), 200.0),
        purchase(month(2025, 5), 300.0),
        refund,
        earlier_refund,
        later,
    ];
    let result = profit_contribution(&transactions, &rates(), 5.0, month(2025, 6))
        .unwrap()
        .unwrap();
    assert_eq!(result.first_purchase, month(2025, 3));
    let contributions: Vec<f64> = result.months.iter().map(|m| m.contribution).collect();
    assert_eq!(contributions, vec![35.0, -5.0, 45.0, -5.0]);
    assert_eq!(result.months[2].margin, 50.0);
    assert_eq!(result.months[3].month, month(2025, 6));
    // Fewer than 12 months: the mean of the four there are.
    assert_eq!(result.trailing_12_month_average, 70.0 / 4.0);
}

#[test]
fn trailing_average_covers_only_the_last_twelve_months() {
    // 100 of margin in each of 18 months from January 2024; cost to serve 10 a month.
    let mut transactions: Vec<_> = (0..18)
        .map(|i| purchase(month(2024, 1).plus(i), 500.0))
        .collect();
    // A big month in the oldest six must not reach the trailing average.
    transactions.push(purchase(month(2024, 2), 100_000.0));
    let result = profit_contribution(&transactions, &rates(), 10.0, month(2025, 6))
        .unwrap()
        .unwrap();
    assert_eq!(result.months.len(), 18);
    assert_eq!(result.trailing_12_month_average, 90.0);
}

#[test]
fn no_purchase_means_no_contribution() {
    let refund_only = [Transaction {
        kind: TransactionKind::Refund,
        ..purchase(month(2025, 1), 10.0)
    }];
    assert_eq!(
        profit_contribution(&refund_only, &rates(), 1.0, month(2025, 3)).unwrap(),
        None
    );
    let future_only = [purchase(month(2025, 9), 10.0)];
    assert_eq!(
        profit_contribution(&future_only, &rates(), 1.0, month(2025, 3)).unwrap(),
        None
    );
}
