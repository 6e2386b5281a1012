//! Generated customers and their transactions, kept in the test so that
//! every measure can be recomputed from scratch, and the Profiles side
//! (customers with wallet estimates).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rapport_kit::{domain::chrono_to_timestamp, internal::BearerAuth, testing::ok};
use rapport_proto::v1::{
    ChangeEvent, CreateCustomerRequest, Customer, TransactionChange, TransactionKind, change_event,
    profiles_service_client::ProfilesServiceClient,
};
use uuid::Uuid;

use super::Harness;

/// One transaction as the test knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Txn {
    pub id: String,
    pub customer: Uuid,
    pub purchase: bool,
    pub at: DateTime<Utc>,
    pub amount: i64,
    pub margin: Option<i64>,
    pub cost: Option<i64>,
    pub category: String,
}

impl Txn {
    /// The change ingestion's relay would deliver.
    pub fn event(&self) -> ChangeEvent {
        let kind = if self.purchase {
            TransactionKind::Purchase
        } else {
            TransactionKind::Refund
        };
        ChangeEvent {
            id: self.id.clone(),
            customer_id: self.customer.to_string(),
            change: Some(change_event::Change::Transaction(TransactionChange {
                kind: kind as i32,
                occurred_at: Some(chrono_to_timestamp(self.at)),
                amount_minor: self.amount,
                currency_code: "EUR".into(),
                margin_minor: self.margin,
                cost_minor: self.cost,
                category: self.category.clone(),
            })),
        }
    }
}

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Creates `n` customers in Profiles; `wallet(i)` gives the i-th customer's
/// `wallet_estimate` attribute (major units), if any.
pub async fn customers(
    h: &Harness,
    key: &str,
    n: usize,
    wallet: impl Fn(usize) -> Option<String>,
) -> Vec<Uuid> {
    let mut client =
        ProfilesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap());
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let attributes: HashMap<String, String> = wallet(i)
            .map(|w| HashMap::from([("wallet_estimate".to_owned(), w)]))
            .unwrap_or_default();
        let r = ok(client.create_customer(CreateCustomerRequest {
            request_id: format!("c-{i}"),
            customer: Some(Customer {
                display_name: format!("Customer {i}"),
                attributes,
                ..Default::default()
            }),
        }))
        .await;
        ids.push(Uuid::parse_str(&r.customer.unwrap().id).unwrap());
    }
    ids
}

/// An exponential draw with mean 1.
fn exponential(rng: &mut StdRng) -> f64 {
    -(1.0 - rng.random::<f64>()).ln()
}

/// Purchases of each customer as BG/NBD tells it: a first purchase in the
/// last `span_days`, then purchases at the customer's own rate (gamma with
/// shape 2, a purchase a month on average) until they drop out (after each
/// purchase, with a probability drawn from Beta(1, 3)); amounts around the
/// customer's own mean; margins known in different ways. Some purchases are
/// partly refunded.
pub fn simulate(rng: &mut StdRng, ids: &[Uuid], now: DateTime<Utc>, span_days: i64) -> Vec<Txn> {
    let mut out = Vec::new();
    for (c, id) in ids.iter().enumerate() {
        let rate = (exponential(rng) + exponential(rng)) / 60.0;
        let mean_gap = 1.0 / rate.max(1e-4);
        let dropout = 1.0 - (1.0 - rng.random::<f64>()).powf(1.0 / 3.0);
        let mean_amount = 1_000.0 + 3_000.0 * (0..3).map(|_| exponential(rng)).sum::<f64>();
        let mut at = now - Duration::seconds(rng.random_range(2 * 86_400..span_days * 86_400));
        for n in 0.. {
            let spread = (0..4).map(|_| exponential(rng)).sum::<f64>() / 4.0;
            let amount = (mean_amount * spread) as i64 + 1;
            let (margin, cost, category) = match n % 4 {
                0 => (None, None, "general"),
                1 => (None, None, "books"),
                2 => (Some(amount / 3), None, "general"),
                _ => (None, Some(amount / 2), "toys"),
            };
            out.push(Txn {
                id: format!("txn:{c}:{n}"),
                customer: *id,
                purchase: true,
                at,
                amount,
                margin,
                cost,
                category: category.into(),
            });
            if rng.random::<f64>() < 0.1 {
                let back = now.min(at + Duration::days(3));
                out.push(Txn {
                    id: format!("ref:{c}:{n}"),
                    customer: *id,
                    purchase: false,
                    at: back,
                    amount: amount / 4,
                    margin: None,
                    cost: None,
                    category: category.into(),
                });
            }
            if rng.random::<f64>() < dropout {
                break;
            }
            let gap = mean_gap * exponential(rng);
            at += Duration::seconds((gap * 86_400.0) as i64 + 3_600);
            if at >= now - Duration::hours(1) {
                break;
            }
        }
    }
    out
}

/// UTC day number.
pub fn day(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

/// A customer's purchase amounts per UTC day up to `end_day`.
pub fn purchase_days(txns: &[Txn], customer: Uuid, end_day: i64) -> BTreeMap<i64, i64> {
    let mut days = BTreeMap::new();
    for t in txns.iter().filter(|t| t.customer == customer && t.purchase) {
        if day(t.at) <= end_day {
            *days.entry(day(t.at)).or_insert(0) += t.amount;
        }
    }
    days
}

/// Frequency, recency and age in days as of `end_day`, and the repeat-day
/// mean in euros, as `lifetimes` defines them.
pub fn history(
    days: &BTreeMap<i64, i64>,
    end_day: i64,
) -> Option<(rapport_science::CustomerHistory, Option<f64>)> {
    let (&first, &first_amount) = days.iter().next()?;
    let (&last, _) = days.iter().next_back()?;
    let repeats = (days.len() - 1) as u32;
    let total: i64 = days.values().sum();
    let h = rapport_science::CustomerHistory::new(
        repeats,
        (last - first) as f64,
        ((end_day - first) as f64).max((last - first) as f64),
    );
    let mean = (repeats > 0).then(|| (total - first_amount) as f64 / 100.0 / f64::from(repeats));
    Some((h, mean))
}
