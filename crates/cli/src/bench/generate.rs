//! Seeded transactions that behave like customers do, so the purchase models
//! have something real to fit: each customer buys at their own rate (gamma
//! distributed across customers) and, after any purchase, stops for good
//! with their own probability (beta distributed), the process the BG/NBD
//! model describes. The rate scale is calibrated so the population has
//! about as many transactions as asked for.
//!
//! The population is generated a few thousand customers at a time, their
//! purchases shuffled together, so batches mix customers as real exports do
//! and millions of customers never sit in memory at once.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use rapport_proto::v1::{ExternalIdentity, Transaction, TransactionKind, transaction::Amount};

use super::population::{PopulationSpec, SOURCE, external_id};

const CATEGORIES: [&str; 5] = ["tools", "garden", "kitchen", "books", "toys"];
/// Shape of the purchase rates across customers.
const RATE_SHAPE: f64 = 0.9;
/// Beta parameters of the per-purchase dropout probability (mean 0.13).
const DROPOUT: (f64, f64) = (0.6, 4.0);
/// Shape of typical order values across customers, and their mean in major
/// units.
const SPEND_SHAPE: f64 = 3.0;
const MEAN_ORDER: f64 = 60.0;
/// Customers simulated together before their purchases are shuffled.
const CHUNK: u64 = 4_096;

/// One customer's habits.
#[derive(Debug, Clone, Copy)]
struct Life {
    /// Days before now of the first purchase.
    first: f32,
    /// Purchases per day while active.
    rate: f32,
    /// Chance of stopping after each purchase.
    dropout: f32,
    /// Their typical order, in major units (gamma distributed across
    /// customers, as the Gamma-Gamma model describes).
    spend: f32,
}

/// A gamma variate (Marsaglia and Tsang; shapes below 1 boosted).
fn gamma(rng: &mut StdRng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        // A standard normal from Box-Muller.
        let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
        let x = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

fn beta(rng: &mut StdRng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    x / (x + y)
}

fn lives(seed: u64, customers: u64, days: f64, mean_rate: f64) -> Vec<Life> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..customers)
        .map(|_| Life {
            first: (days * rng.random_range(0.02..1.0)) as f32,
            rate: (gamma(&mut rng, RATE_SHAPE) * mean_rate / RATE_SHAPE) as f32,
            dropout: beta(&mut rng, DROPOUT.0, DROPOUT.1) as f32,
            spend: (gamma(&mut rng, SPEND_SHAPE) * MEAN_ORDER / SPEND_SHAPE).max(1.0) as f32,
        })
        .collect()
}

/// Days before now of each purchase of `life`: the first, then purchases
/// at its rate until it stops or the window ends.
fn purchases(rng: &mut StdRng, life: &Life, out: &mut Vec<f32>) {
    out.push(life.first);
    let mut at = f64::from(life.first);
    let rate = f64::from(life.rate).max(1e-9);
    loop {
        let gap = -(1.0 - rng.random::<f64>()).ln() / rate;
        at -= gap;
        if at <= 0.0 {
            return;
        }
        out.push(at as f32);
        if rng.random::<f32>() < life.dropout {
            return;
        }
    }
}

/// The purchase rate scale giving `per_customer` purchases on average,
/// found by bisection on a sample of simulated customers.
fn calibrate(seed: u64, days: f64, per_customer: f64) -> f64 {
    let sample = 3_000;
    let mean = |rate: f64| {
        let ls = lives(seed ^ 0x5eed, sample, days, rate);
        let mut rng = StdRng::seed_from_u64(seed ^ 0xca11);
        let mut buf = Vec::new();
        for l in &ls {
            purchases(&mut rng, l, &mut buf);
        }
        buf.len() as f64 / sample as f64
    };
    let (mut lo, mut hi): (f64, f64) = (1e-5, 10.0);
    for _ in 0..40 {
        let mid = (lo * hi).sqrt();
        if mean(mid) < per_customer {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo * hi).sqrt()
}

/// Makes transactions: the population's, or new ones for a scenario, each
/// with an id no other generator of the run uses (`tag` tells them apart).
pub struct TxnGen {
    rng: StdRng,
    lives: Vec<Life>,
    /// Running sum of purchase rates, to draw live traffic by it.
    cumulative: Vec<f64>,
    /// Population purchases generated and not yet handed out.
    pending: VecDeque<(u64, f32)>,
    next_customer: u64,
    tag: String,
    next: u64,
    now: DateTime<Utc>,
}

impl TxnGen {
    /// Transactions numbered from 0 under `tag`, for the customers of `spec`
    /// (whose habits follow from its seed alone). `stream` seeds this
    /// generator's own choices.
    pub fn new(spec: &PopulationSpec, tag: &str, stream: u64) -> TxnGen {
        let customers = spec.customers.max(1);
        let days = f64::from(spec.months.max(1) * 30);
        let per_customer = (spec.transactions as f64 / customers as f64).max(1.0);
        let rate = calibrate(spec.seed, days, per_customer);
        let lives = lives(spec.seed, customers, days, rate);
        let mut sum = 0.0;
        let cumulative = lives
            .iter()
            .map(|l| {
                sum += f64::from(l.rate);
                sum
            })
            .collect();
        TxnGen {
            rng: StdRng::seed_from_u64(spec.seed.wrapping_add(stream).wrapping_add(1)),
            lives,
            cumulative,
            pending: VecDeque::new(),
            next_customer: 0,
            tag: tag.to_owned(),
            next: 0,
            now: Utc::now(),
        }
    }

    /// Customers in the population.
    pub fn customers(&self) -> u64 {
        self.lives.len() as u64
    }

    /// The next purchase of the population, or `None` once every customer's
    /// history has been handed out.
    fn next_historic(&mut self) -> Option<(u64, f32)> {
        while self.pending.is_empty() && self.next_customer < self.customers() {
            let end = (self.next_customer + CHUNK).min(self.customers());
            let mut chunk = Vec::new();
            let mut buf = Vec::new();
            for c in self.next_customer..end {
                buf.clear();
                purchases(&mut self.rng, &self.lives[c as usize], &mut buf);
                chunk.extend(buf.iter().map(|d| (c, *d)));
            }
            chunk.shuffle(&mut self.rng);
            self.pending.extend(chunk);
            self.next_customer = end;
        }
        self.pending.pop_front()
    }

    /// A customer drawn by purchase rate: who buys right now.
    fn draw(&mut self) -> u64 {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = self.rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.cumulative.len() - 1) as u64
    }

    /// Up to `n` transactions of the population's history (fewer at its end).
    pub fn history(&mut self, n: usize) -> Vec<Transaction> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let Some((c, days_ago)) = self.next_historic() else {
                break;
            };
            let refund = self.rng.random_bool(0.05);
            out.push(self.make(c, f64::from(days_ago), refund));
        }
        out
    }

    /// `n` transactions happening now (in the last hour), by customers
    /// drawn by their purchase rate.
    pub fn live(&mut self, n: usize) -> Vec<Transaction> {
        (0..n)
            .map(|_| {
                let c = self.draw();
                let ago = self.rng.random_range(0.0..(1.0 / 24.0));
                self.make(c, ago, false)
            })
            .collect()
    }

    /// A purchase by customer `c` happening now.
    pub fn live_for(&mut self, c: u64) -> Transaction {
        let ago = self.rng.random_range(0.0..(1.0 / 24.0));
        self.make(c.min(self.customers() - 1), ago, false)
    }

    fn make(&mut self, c: u64, days_ago: f64, refund: bool) -> Transaction {
        let n = self.next;
        self.next += 1;
        // Around the customer's typical order (gamma noise with mean 1, in
        // minor units); refunds are partial.
        let typical = f64::from(self.lives[c as usize].spend);
        let amount = (typical * gamma(&mut self.rng, 4.0) / 4.0 * 100.0)
            .round()
            .max(1.0) as i64;
        let amount = if refund { amount / 3 + 1 } else { amount };
        let category = CATEGORIES[self.rng.random_range(0..CATEGORIES.len())];
        let at = self.now - chrono::Duration::seconds((days_ago * 86_400.0) as i64);
        Transaction {
            source: SOURCE.to_owned(),
            external_id: format!("{}-{n}", self.tag),
            customer: Some(ExternalIdentity {
                source: SOURCE.to_owned(),
                external_id: external_id(c),
            }),
            kind: if refund {
                TransactionKind::Refund
            } else {
                TransactionKind::Purchase
            } as i32,
            occurred_at: Some(prost_types::Timestamp {
                seconds: at.timestamp(),
                nanos: 0,
            }),
            currency_code: "EUR".to_owned(),
            amount: Some(Amount::AmountMinor(amount)),
            margin_minor: self.rng.random_bool(0.5).then_some(amount * 3 / 10),
            cost_minor: None,
            category: category.to_owned(),
            customer_id: String::new(),
            id: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(customers: u64, transactions: u64) -> PopulationSpec {
        PopulationSpec {
            customers,
            transactions,
            months: 24,
            seed: 7,
        }
    }

    #[test]
    fn the_population_has_about_the_transactions_asked_for_and_every_customer() {
        let mut g = TxnGen::new(&spec(2_000, 20_000), "t", 0);
        let mut all = Vec::new();
        loop {
            let batch = g.history(1_000);
            if batch.is_empty() {
                break;
            }
            all.extend(batch);
        }
        let n = all.len() as f64;
        assert!((16_000.0..24_000.0).contains(&n), "{n} transactions");
        let customers: std::collections::HashSet<_> = all
            .iter()
            .map(|t| t.customer.as_ref().unwrap().external_id.clone())
            .collect();
        assert_eq!(customers.len(), 2_000);
        let ids: std::collections::HashSet<_> = all.iter().map(|t| &t.external_id).collect();
        assert_eq!(ids.len(), all.len(), "transaction ids are unique");
    }

    #[test]
    fn the_same_seed_gives_the_same_population() {
        let a = TxnGen::new(&spec(300, 1_500), "t", 0).history(500);
        let b = TxnGen::new(&spec(300, 1_500), "t", 0).history(500);
        let key = |t: &Transaction| {
            (
                t.customer.clone(),
                t.amount.clone(),
                t.kind,
                t.occurred_at.map(|x| x.seconds / 60),
            )
        };
        assert_eq!(
            a.iter().map(key).collect::<Vec<_>>(),
            b.iter().map(key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn some_customers_stop_buying_long_before_the_end() {
        let mut g = TxnGen::new(&spec(2_000, 16_000), "t", 0);
        let mut last: std::collections::HashMap<String, i64> = Default::default();
        loop {
            let batch = g.history(1_000);
            if batch.is_empty() {
                break;
            }
            for t in batch {
                let at = t.occurred_at.unwrap().seconds;
                let e = last.entry(t.customer.unwrap().external_id).or_insert(at);
                *e = (*e).max(at);
            }
        }
        let now = Utc::now().timestamp();
        let lapsed = last.values().filter(|at| now - **at > 180 * 86_400).count();
        assert!(
            lapsed > 200 && lapsed < 1_800,
            "{lapsed} of 2000 silent for half a year"
        );
    }

    #[test]
    fn gamma_and_beta_variates_have_their_means() {
        let mut rng = StdRng::seed_from_u64(1);
        let n = 20_000;
        let g: f64 = (0..n).map(|_| gamma(&mut rng, 0.9)).sum::<f64>() / n as f64;
        let b: f64 = (0..n).map(|_| beta(&mut rng, 0.6, 4.0)).sum::<f64>() / n as f64;
        assert!((g - 0.9).abs() < 0.05, "gamma mean {g}");
        assert!((b - 0.6 / 4.6).abs() < 0.01, "beta mean {b}");
    }
}
