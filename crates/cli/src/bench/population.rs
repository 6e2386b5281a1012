//! The seeded population every scenario runs on: customers known by their
//! ERP number, and purchases and refunds over past months with a realistic
//! skew (a fifth of the customers make half the purchases). Generated batch
//! by batch, so a population of millions never sits in memory, and loaded
//! through the public API exactly as an ERP integration would.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use rand::{Rng, SeedableRng, rngs::StdRng};
use rapport_kit::Db;
use rapport_proto::v1::{
    ExternalIdentity, IngestTransactionsRequest, ListScoresRequest, ScoreOrder, Transaction,
    TransactionKind, transaction::Amount,
};

use crate::client::Clients;

/// The source system every generated row claims.
pub const SOURCE: &str = "erp";
const CATEGORIES: [&str; 5] = ["tools", "garden", "kitchen", "books", "toys"];

/// What to generate.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PopulationSpec {
    /// Customers.
    pub customers: u64,
    /// Transactions in all (at least one per customer).
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

/// Each customer's life: when they first bought, when they stopped (or
/// the end of the window), and how often they buy relative to others.
/// Customers that stop buying are what the purchase models measure, so the
/// population has them, as real ones do.
struct Lives {
    /// Days before now of the first purchase.
    first: Vec<f32>,
    /// Days before now of the last possible purchase (0: still active).
    last: Vec<f32>,
    /// Running sum of purchase propensities, to draw customers by it.
    cumulative: Vec<f64>,
}

impl Lives {
    fn new(rng: &mut StdRng, customers: u64, days: f32) -> Lives {
        let n = customers as usize;
        let (mut first, mut last, mut cumulative) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut sum = 0.0;
        for _ in 0..n {
            let start = days * rng.random_range(0.05f32..1.0);
            // Exponential lifetimes with a mean of half the window: about a
            // third of the customers are still buying at the end.
            let life = -(days * 0.5) * (1.0 - rng.random::<f32>()).ln();
            first.push(start);
            last.push((start - life).max(0.0));
            // Log-normal propensity: a few customers buy far more often.
            let z: f64 = (0..4).map(|_| rng.random::<f64>()).sum::<f64>() - 2.0;
            sum += (1.2 * z).exp();
            cumulative.push(sum);
        }
        Lives {
            first,
            last,
            cumulative,
        }
    }

    fn draw(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.cumulative.len() - 1)
    }
}

/// Makes transactions: the population's, or new ones for a scenario, each
/// with an id no other generator of the run uses (`tag` tells them apart).
pub struct TxnGen {
    rng: StdRng,
    lives: Lives,
    tag: String,
    next: u64,
    now: DateTime<Utc>,
}

impl TxnGen {
    /// Transactions numbered from 0 under `tag`, for the customers of `spec`
    /// (whose lives follow from its seed alone).
    pub fn new(spec: &PopulationSpec, tag: &str, seed_offset: u64) -> TxnGen {
        let mut lives_rng = StdRng::seed_from_u64(spec.seed);
        let days = (spec.months.max(1) * 30) as f32;
        TxnGen {
            lives: Lives::new(&mut lives_rng, spec.customers.max(1), days),
            rng: StdRng::seed_from_u64(spec.seed.wrapping_add(seed_offset).wrapping_add(1)),
            tag: tag.to_owned(),
            next: 0,
            now: Utc::now(),
        }
    }

    /// The next transaction: customer `customer` when given, else each
    /// customer's first purchase in turn, then customers by propensity.
    /// `recent` transactions happened in the last hour (live traffic).
    pub fn next_for(&mut self, customer: Option<u64>, recent: bool) -> Transaction {
        let n = self.next;
        self.next += 1;
        let customers = self.lives.first.len() as u64;
        let (c, first) = match customer {
            Some(c) => (c.min(customers - 1), false),
            None if n < customers && !recent => (n, true),
            None => (self.lives.draw(&mut self.rng) as u64, false),
        };
        let (from, to) = (self.lives.first[c as usize], self.lives.last[c as usize]);
        let days_ago = if recent {
            self.rng.random_range(0.0..(1.0 / 24.0))
        } else if first {
            from
        } else {
            self.rng.random_range(to..=from)
        };
        let refund = !recent && !first && self.rng.random_bool(0.06);
        // Log-uniform from 5 to 500 in major units.
        let amount = (500.0 * 100f64.powf(self.rng.random::<f64>())).round() as i64;
        let amount = if refund { amount / 3 + 1 } else { amount };
        let category = CATEGORIES[self.rng.random_range(0..CATEGORIES.len())];
        let at = self.now - chrono::Duration::seconds((f64::from(days_ago) * 86_400.0) as i64);
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

    /// `n` transactions.
    pub fn batch(&mut self, n: usize, recent: bool) -> Vec<Transaction> {
        (0..n).map(|_| self.next_for(None, recent)).collect()
    }
}

/// How loading the population went.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Loaded {
    /// Transactions stored.
    pub transactions: u64,
    /// Seconds until the last batch was acknowledged.
    pub ingest_seconds: f64,
    /// Seconds until scoring had applied every one.
    pub applied_seconds: f64,
    /// Rapport ids of every customer with a score.
    #[serde(skip)]
    pub customer_ids: Vec<String>,
}

/// Loads the population through IngestTransactions (unknown customers are
/// created as stubs), waits until scoring has applied it all, and lists the
/// customers' ids.
pub async fn load(
    clients: &Clients,
    ingestion_db: &Db,
    spec: &PopulationSpec,
    batch: usize,
) -> anyhow::Result<Loaded> {
    let start = Instant::now();
    let mut generator = TxnGen::new(spec, "pop", 0);
    let batches = spec.transactions.max(spec.customers).div_ceil(batch as u64);
    let mut remaining = spec.transactions.max(spec.customers);
    let requests = (0..batches).map(|_| {
        let n = remaining.min(batch as u64) as usize;
        remaining -= n as u64;
        generator.batch(n, false)
    });
    // Two batches in flight: Rapport's ingest is made to be called
    // concurrently, and one at a time would leave it waiting on the client.
    let mut stored = 0u64;
    let mut sends = futures::stream::iter(requests)
        .map(|transactions| {
            let mut client = clients.ingestion.clone();
            async move {
                client
                    .ingest_transactions(IngestTransactionsRequest { transactions })
                    .await
            }
        })
        .buffered(2);
    while let Some(answer) = sends.next().await {
        let answer = answer?.into_inner();
        anyhow::ensure!(
            answer.rejected.is_empty(),
            "population rows rejected: {:?}",
            answer.rejected.first()
        );
        stored += u64::from(answer.accepted);
    }
    let ingest_seconds = start.elapsed().as_secs_f64();
    wait_drained(ingestion_db, Duration::from_secs(3_600)).await?;
    let applied_seconds = start.elapsed().as_secs_f64();
    let customer_ids = list_customers(clients).await?;
    Ok(Loaded {
        transactions: stored,
        ingest_seconds,
        applied_seconds,
        customer_ids,
    })
}

/// Changes waiting in ingestion's outbox.
pub async fn outbox_depth(db: &Db) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM outbox";
    match db {
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
}

/// Age in milliseconds of the oldest change waiting in the outbox (0 when
/// empty).
pub async fn outbox_age_ms(db: &Db) -> Result<f64, sqlx::Error> {
    match db {
        Db::Postgres(p) => {
            sqlx::query_scalar(
                "SELECT COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - MIN(created_at)) * 1000, 0)::float8 FROM outbox",
            )
            .fetch_one(p)
            .await
        }
        Db::Sqlite(p) => {
            let oldest: Option<i64> = sqlx::query_scalar("SELECT MIN(created_at) FROM outbox")
                .fetch_one(p)
                .await?;
            Ok(oldest.map_or(0.0, |micros| {
                (Utc::now().timestamp_micros() - micros).max(0) as f64 / 1000.0
            }))
        }
    }
}

/// Waits until the relay has delivered every queued change.
pub async fn wait_drained(db: &Db, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        if outbox_depth(db).await? == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the outbox did not drain within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every scored customer's id, through ListScores.
async fn list_customers(clients: &Clients) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut token = String::new();
    let mut scoring = clients.scoring.clone();
    loop {
        let page = scoring
            .list_scores(ListScoresRequest {
                order_by: ScoreOrder::NetSpend as i32,
                page_size: 1_000,
                page_token: token,
            })
            .await?
            .into_inner();
        ids.extend(page.scores.into_iter().map(|s| s.customer_id));
        if page.next_page_token.is_empty() {
            return Ok(ids);
        }
        token = page.next_page_token;
    }
}
