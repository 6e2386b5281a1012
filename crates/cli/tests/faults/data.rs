//! A generated import: customers (all consenting to webhooks) and their
//! transactions, with what each customer's score must hold computed from the
//! rows alone.

use std::{collections::BTreeMap, path::PathBuf};

use rapport_kit::testing::fresh_dir;

/// One generated transaction.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub customer: String,
    pub refund: bool,
    pub minor: i64,
    pub day: chrono::NaiveDate,
}

/// What a customer's score must hold, computed from the rows alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub purchases: u64,
    pub refunds: u64,
    pub purchase_total: i64,
    pub refund_total: i64,
}

/// A generated import: customers (all consenting to webhooks) and their
/// transactions, deterministic for a size.
pub struct Data {
    pub customers: usize,
    pub rows: Vec<Row>,
}

impl Data {
    /// `rows` transactions over `rows / 10` customers in the last two
    /// years; one in 20 is a refund.
    pub fn new(rows: usize) -> Data {
        let customers = (rows / 10).max(1);
        let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
        let rows = (0..rows)
            .map(|i| Row {
                id: format!("T{i}"),
                customer: format!("C{}", (i * 7) % customers),
                refund: i % 20 == 19,
                minor: 100 + (i as i64 * 7919) % 99_900,
                day: start + chrono::Duration::days((i as i64 * 37) % 690),
            })
            .collect();
        Data { customers, rows }
    }

    /// Writes customers.csv and transactions.csv; returns their paths.
    pub fn write(&self) -> (PathBuf, PathBuf) {
        let dir = fresh_dir();
        let mut customers = String::from("customer_id,name,kind,consent_webhook\n");
        for c in 0..self.customers {
            customers.push_str(&format!("C{c},Customer {c},person,yes\n"));
        }
        let mut transactions =
            String::from("transaction_id,customer_id,kind,occurred_at,amount,currency\n");
        for r in &self.rows {
            let kind = if r.refund { "refund" } else { "purchase" };
            let amount = format!("{}.{:02}", r.minor / 100, r.minor % 100);
            let line = format!("{},{},{kind},{},{amount},EUR\n", r.id, r.customer, r.day);
            transactions.push_str(&line);
        }
        let (c, t) = (dir.join("customers.csv"), dir.join("transactions.csv"));
        std::fs::write(&c, customers).expect("write customers");
        std::fs::write(&t, transactions).expect("write transactions");
        (c, t)
    }

    /// Purchases (not refunds) of more than `minor` units: what a rule on
    /// large purchases fires for.
    pub fn purchases_over(&self, minor: i64) -> usize {
        (self.rows.iter())
            .filter(|r| !r.refund && r.minor > minor)
            .count()
    }

    /// Each customer's expected totals, by customer id as imported.
    pub fn expected(&self) -> BTreeMap<String, Expected> {
        let mut out: BTreeMap<String, Expected> = BTreeMap::new();
        for r in &self.rows {
            let e = out.entry(r.customer.clone()).or_default();
            if r.refund {
                e.refunds += 1;
                e.refund_total += r.minor;
            } else {
                e.purchases += 1;
                e.purchase_total += r.minor;
            }
        }
        out
    }
}
