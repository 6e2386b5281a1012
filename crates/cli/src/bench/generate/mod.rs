//! Seeded transactions that behave like customers do (see [`life`]), so the
//! purchase models have something real to fit. The population is generated
//! a few thousand customers at a time, their purchases shuffled together, so
//! batches mix customers as real exports do and millions of customers never
//! sit in memory at once.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use rapport_proto::v1::{ExternalIdentity, Transaction, TransactionKind, transaction::Amount};

mod life;

use life::{Life, calibrate, gamma, lives, purchases};

/// The source system every generated row claims.
pub const SOURCE: &str = "erp";

/// What to generate.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PopulationSpec {
    /// Customers.
    pub customers: u64,
    /// Transactions in all, about (every customer has at least one).
    pub transactions: u64,
    /// Months of history before now.
    pub months: u32,
    /// The same seed gives the same population.
    pub seed: u64,
}

/// The ERP number of customer `i`.
pub fn external_id(i: u64) -> String {
    format!("C{i:08}")
}

/// Customers simulated together before their purchases are shuffled.
const CHUNK: u64 = 4_096;
const CATEGORIES: [&str; 5] = ["tools", "garden", "kitchen", "books", "toys"];

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
mod tests;
