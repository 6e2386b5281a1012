//! `rapport verify scores`: recomputes each customer's stored aggregates
//! from the transactions ingestion holds, as scoring folds them (counts,
//! saturating totals, net spend, first and last purchase), and names every
//! customer whose score says otherwise and the fields that differ. Reads
//! one page of customers and one page of transactions at a time.

use std::fmt;

use anyhow::Context;
use rand::Rng;
use rapport_proto::v1::{
    GetScoreRequest, ListCustomersRequest, ListTransactionsRequest, Score, Transaction,
    TransactionKind, transaction::Amount,
};

use crate::client::{Clients, describe};

/// Customers and transactions read per call.
const PAGE: i32 = 1_000;

/// Which customers to check.
#[derive(Debug, Clone)]
pub enum Customers {
    /// Every customer of the tenant.
    All,
    /// These, by Rapport customer id.
    Ids(Vec<String>),
    /// This many picked at random (reservoir sampling over every customer).
    Sample(usize),
}

/// What a score's stored aggregates must be for a customer's transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregates {
    /// Purchases.
    pub purchase_count: u64,
    /// Refunds.
    pub refund_count: u64,
    /// Purchase amounts, minor units.
    pub purchase_total: i64,
    /// Refund amounts, minor units.
    pub refund_total: i64,
    /// Purchases less refunds.
    pub net_spend: i64,
    /// Earliest purchase, in microseconds since the epoch (as stored).
    pub first_purchase_at: Option<i64>,
    /// Latest purchase, in microseconds since the epoch.
    pub last_purchase_at: Option<i64>,
}

/// Microseconds since the epoch of a timestamp: the precision both stores
/// keep.
fn micros(t: &Option<prost_types::Timestamp>) -> Option<i64> {
    t.as_ref().map(|t| {
        t.seconds
            .saturating_mul(1_000_000)
            .saturating_add(i64::from(t.nanos / 1_000))
    })
}

impl Aggregates {
    /// Folds one transaction in, as scoring does: totals saturate, a refund
    /// moves no purchase time.
    pub fn add(&mut self, t: &Transaction) {
        let amount = match &t.amount {
            Some(Amount::AmountMinor(minor)) => *minor,
            _ => 0,
        };
        if t.kind == TransactionKind::Refund as i32 {
            self.refund_count += 1;
            self.refund_total = self.refund_total.saturating_add(amount);
        } else {
            self.purchase_count += 1;
            self.purchase_total = self.purchase_total.saturating_add(amount);
            if let Some(at) = micros(&t.occurred_at) {
                let (first, last) = (&mut self.first_purchase_at, &mut self.last_purchase_at);
                *first = Some(first.map_or(at, |f| f.min(at)));
                *last = Some(last.map_or(at, |l| l.max(at)));
            }
        }
        self.net_spend = self.purchase_total.saturating_sub(self.refund_total);
    }

    /// What `score` holds.
    pub fn of(score: &Score) -> Aggregates {
        let minor = |m: &Option<rapport_proto::v1::Money>| m.as_ref().map_or(0, |m| m.minor_units);
        Aggregates {
            purchase_count: score.purchase_count,
            refund_count: score.refund_count,
            purchase_total: minor(&score.purchase_total),
            refund_total: minor(&score.refund_total),
            net_spend: minor(&score.net_spend),
            first_purchase_at: micros(&score.first_purchase_at),
            last_purchase_at: micros(&score.last_purchase_at),
        }
    }

    /// The fields where `stored` differs from `self`, recomputed.
    pub fn differences(&self, stored: &Aggregates) -> Vec<Difference> {
        let mut out = Vec::new();
        let mut check = |field: &'static str, stored: String, recomputed: String| {
            if stored != recomputed {
                out.push(Difference {
                    field,
                    stored,
                    recomputed,
                });
            }
        };
        let time = |t: Option<i64>| t.map_or_else(|| "none".to_owned(), |t| t.to_string());
        check(
            "purchase_count",
            stored.purchase_count.to_string(),
            self.purchase_count.to_string(),
        );
        check(
            "refund_count",
            stored.refund_count.to_string(),
            self.refund_count.to_string(),
        );
        check(
            "purchase_total",
            stored.purchase_total.to_string(),
            self.purchase_total.to_string(),
        );
        check(
            "refund_total",
            stored.refund_total.to_string(),
            self.refund_total.to_string(),
        );
        check(
            "net_spend",
            stored.net_spend.to_string(),
            self.net_spend.to_string(),
        );
        check(
            "first_purchase_at",
            time(stored.first_purchase_at),
            time(self.first_purchase_at),
        );
        check(
            "last_purchase_at",
            time(stored.last_purchase_at),
            time(self.last_purchase_at),
        );
        out
    }
}

/// One field a score holds otherwise than its transactions say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The score's field.
    pub field: &'static str,
    /// What the score holds.
    pub stored: String,
    /// What the transactions make it.
    pub recomputed: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: stored {}, recomputed {}",
            self.field, self.stored, self.recomputed
        )
    }
}

/// What a verification found.
#[derive(Debug, Default)]
pub struct Report {
    /// Customers checked.
    pub checked: u64,
    /// Customers whose score differs (or is missing), with the differences.
    pub differing: u64,
}

/// Checks `which` customers, printing each one that differs as it is found,
/// and returns the counts.
pub async fn scores(clients: &mut Clients, which: Customers) -> anyhow::Result<Report> {
    let mut report = Report::default();
    match which {
        Customers::Ids(ids) => {
            for id in ids {
                check(clients, &id, &mut report).await?;
            }
        }
        Customers::Sample(n) => {
            let mut picked = Vec::with_capacity(n);
            let mut seen = 0usize;
            let mut rng = rand::rng();
            each_customer_page(clients, |page| {
                for id in page {
                    seen += 1;
                    if picked.len() < n {
                        picked.push(id);
                    } else {
                        let slot = rng.random_range(0..seen);
                        if slot < n {
                            picked[slot] = id;
                        }
                    }
                }
            })
            .await?;
            for id in picked {
                check(clients, &id, &mut report).await?;
            }
        }
        Customers::All => {
            let mut token = String::new();
            loop {
                let (ids, next) = customer_page(clients, token).await?;
                for id in ids {
                    check(clients, &id, &mut report).await?;
                }
                if next.is_empty() {
                    break;
                }
                token = next;
            }
        }
    }
    Ok(report)
}

/// One page of customer ids and the next page's token.
async fn customer_page(
    clients: &mut Clients,
    token: String,
) -> anyhow::Result<(Vec<String>, String)> {
    let page = clients
        .profiles
        .list_customers(ListCustomersRequest {
            page_size: PAGE,
            page_token: token,
            ..ListCustomersRequest::default()
        })
        .await
        .map_err(describe)
        .context("ListCustomers")?
        .into_inner();
    let ids = page.customers.into_iter().map(|c| c.id).collect();
    Ok((ids, page.next_page_token))
}

/// Hands `each` every page of customer ids.
async fn each_customer_page(
    clients: &mut Clients,
    mut each: impl FnMut(Vec<String>),
) -> anyhow::Result<()> {
    let mut token = String::new();
    loop {
        let (ids, next) = customer_page(clients, token).await?;
        each(ids);
        if next.is_empty() {
            return Ok(());
        }
        token = next;
    }
}

/// One customer: recomputes, reads the score, prints what differs.
async fn check(clients: &mut Clients, id: &str, report: &mut Report) -> anyhow::Result<()> {
    let mut recomputed = Aggregates::default();
    let mut token = String::new();
    loop {
        let page = clients
            .ingestion
            .list_transactions(ListTransactionsRequest {
                customer_id: id.to_owned(),
                page_size: PAGE,
                page_token: token,
            })
            .await
            .map_err(describe)
            .with_context(|| format!("ListTransactions of customer {id}"))?
            .into_inner();
        page.transactions.iter().for_each(|t| recomputed.add(t));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let score = clients
        .scoring
        .get_score(GetScoreRequest {
            customer_id: id.to_owned(),
        })
        .await;
    report.checked += 1;
    let stored = match score {
        Ok(r) => Aggregates::of(&r.into_inner().score.unwrap_or_default()),
        // A customer without transactions may have no score yet.
        Err(s) if s.code() == tonic::Code::NotFound && recomputed == Aggregates::default() => {
            return Ok(());
        }
        Err(s) if s.code() == tonic::Code::NotFound => {
            report.differing += 1;
            println!(
                "customer {id}: no score, but {} transactions",
                recomputed.purchase_count + recomputed.refund_count
            );
            return Ok(());
        }
        Err(s) => return Err(describe(s)).with_context(|| format!("GetScore of customer {id}")),
    };
    let differences = recomputed.differences(&stored);
    if !differences.is_empty() {
        report.differing += 1;
        println!("customer {id}:");
        for d in differences {
            println!("  {d}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(kind: TransactionKind, seconds: i64, amount: i64) -> Transaction {
        Transaction {
            kind: kind as i32,
            occurred_at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
            amount: Some(Amount::AmountMinor(amount)),
            ..Transaction::default()
        }
    }

    #[test]
    fn folds_as_scoring_does() {
        let mut a = Aggregates::default();
        a.add(&txn(TransactionKind::Purchase, 200, 1_000));
        a.add(&txn(TransactionKind::Purchase, 100, i64::MAX));
        a.add(&txn(TransactionKind::Refund, 50, 300));
        assert_eq!(a.purchase_count, 2);
        assert_eq!(a.refund_count, 1);
        assert_eq!(a.purchase_total, i64::MAX);
        assert_eq!(a.net_spend, i64::MAX - 300);
        // The refund, earliest of all, moves no purchase time.
        assert_eq!(a.first_purchase_at, Some(100_000_000));
        assert_eq!(a.last_purchase_at, Some(200_000_000));
        let mut stored = a.clone();
        stored.refund_total = 0;
        let d = a.differences(&stored);
        let fields: Vec<&str> = d.iter().map(|d| d.field).collect();
        assert_eq!(fields, ["refund_total"]);
        assert_eq!(d[0].to_string(), "refund_total: stored 0, recomputed 300");
    }
}
