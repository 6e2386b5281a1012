//! A report built from one pass over a tenant's customers: each customer's
//! facts are added once, in any order, and the report is read at the end.
//! Pure arithmetic, no I/O. Memory grows with the distinct dimension values,
//! months and ranking sizes, never with the number of customers: a
//! dimension keeps at most [`MAX_BUCKETS_HELD`] values, the rest are summed
//! under [`OTHER`].

use std::{
    cmp::{Ordering, Reverse},
    collections::{BTreeMap, BinaryHeap, HashMap},
};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rapport_kit::domain::{CurrencyCode, chrono_to_timestamp, format_minor};
use rapport_proto::v1::{
    Breakdown, BreakdownRow, CohortRow, FrequencyPeers, HistogramBucket, ListEntry, Money,
    MonthRow, RankedCustomer, Ranking, RankingSpec, Report, ReportDimension, ReportMeasure,
    RfmCell,
};
use uuid::Uuid;

use crate::{
    calendar::month_index,
    value::histories::{major, minor},
};

/// The dimensions, in the order of their enum numbers 1..=10.
pub const DIMENSIONS: [ReportDimension; 10] = [
    ReportDimension::Region,
    ReportDimension::Industry,
    ReportDimension::AgeBand,
    ReportDimension::Gender,
    ReportDimension::Kind,
    ReportDimension::Tier,
    ReportDimension::RfmSegment,
    ReportDimension::Lifecycle,
    ReportDimension::Cohort,
    ReportDimension::ParentAccount,
];

/// The measures a ranking can order by, in the order of their enum numbers.
pub const MEASURES: [ReportMeasure; 8] = [
    ReportMeasure::NetSpend,
    ReportMeasure::Margin,
    ReportMeasure::MonthlyProfit,
    ReportMeasure::LifetimeValue,
    ReportMeasure::PastValue,
    ReportMeasure::ProbabilityAlive,
    ReportMeasure::PurchaseCount,
    ReportMeasure::ShareOfWallet,
];

/// Rows a breakdown reports; the rest are summed in one [`OTHER`] row.
pub const MAX_ROWS: usize = 1_000;
/// Distinct values a dimension holds while the pass runs; customers with a
/// value first seen after that are summed under [`OTHER`].
pub const MAX_BUCKETS_HELD: usize = 100_000;
/// The row that sums what does not fit.
pub const OTHER: &str = "(other)";
/// First-purchase cohorts a report shows (the latest).
pub const COHORTS: usize = 24;
/// Customers each default ranking holds.
pub const DEFAULT_RANKING: u32 = 20;
/// Largest ranking.
pub const MAX_RANKING: u32 = 100;
/// Customers on the reactivation list.
pub const REACTIVATION: usize = 100;
/// Below this probability of being alive a repeat buyer is worth winning
/// back.
pub const REACTIVATION_P_ALIVE: f64 = 0.5;
/// Customers on the up-sell list.
pub const UPSELL: usize = 100;
/// An order value below this share of the peers' median is worth raising.
pub const UPSELL_SHARE: f64 = 0.5;
/// Fewest peers a median is compared with.
pub const UPSELL_MIN_PEERS: u64 = 10;
/// Fewest purchases in the last twelve months for the up-sell list.
pub const UPSELL_MIN_PURCHASES: u64 = 2;
/// Ratio between consecutive bounds of the order-value histograms the peers'
/// medians are read from: a median is off by at most half of it (2.5%).
const PEER_BUCKET_RATIO: f64 = 1.05;
/// The smallest order value counted, major units.
const PEER_SMALLEST: f64 = 0.01;
/// Smallest positive lifetime-value histogram bound, major units; bounds
/// then grow by half decades (10, 30, 100, 300, ...).
const HISTOGRAM_FIRST_BOUND: f64 = 10.0;

/// A dimension's position in [`DIMENSIONS`].
pub fn dimension_index(d: ReportDimension) -> Option<usize> {
    DIMENSIONS.iter().position(|x| *x == d)
}

/// One customer as a report sees it: the profile's dimensions and the
/// score's measures (major units unless named minor).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub customer_id: Uuid,
    pub display_name: String,
    /// Indexed like [`DIMENSIONS`].
    pub dimensions: [String; 10],
    pub purchases: u64,
    pub net_minor: i64,
    pub margin_minor: i64,
    pub monthly_profit: Option<f64>,
    pub lifetime_value: Option<f64>,
    pub past_value: Option<f64>,
    pub probability_alive: Option<f64>,
    /// Trailing-twelve-month spend and the yearly wallet estimate.
    pub wallet: Option<(f64, f64)>,
    /// (recency, frequency) scores, 1-5.
    pub rfm: Option<(u8, u8)>,
    /// Whole days since the last purchase.
    pub recency_days: Option<u32>,
    /// Average order value, major units; `None` without a purchase.
    pub order_value: Option<f64>,
    /// Month index of the first purchase.
    pub first_month: Option<i32>,
    /// (month index, net minor, margin minor, purchases) of every month with
    /// activity.
    pub months: Vec<(i32, i64, i64, u32)>,
}

impl Facts {
    /// The customer's value of `measure`; `None` when it has none.
    pub fn measure(&self, measure: ReportMeasure, c: CurrencyCode) -> Option<f64> {
        match measure {
            ReportMeasure::Unspecified => None,
            ReportMeasure::NetSpend => Some(major(self.net_minor, c)),
            ReportMeasure::Margin => Some(major(self.margin_minor, c)),
            ReportMeasure::MonthlyProfit => self.monthly_profit,
            ReportMeasure::LifetimeValue => self.lifetime_value,
            ReportMeasure::PastValue => self.past_value,
            ReportMeasure::ProbabilityAlive => self.probability_alive,
            ReportMeasure::PurchaseCount => Some(self.purchases as f64),
            ReportMeasure::ShareOfWallet => self
                .wallet
                .filter(|(_, e)| e.is_finite() && *e > 0.0)
                .map(|(s, e)| (s.clamp(0.0, e) / e).clamp(0.0, 1.0)),
        }
    }
}

/// Whether `measure` is money (its ranked values carry a [`Money`]).
pub fn is_money(measure: ReportMeasure) -> bool {
    matches!(
        measure,
        ReportMeasure::NetSpend
            | ReportMeasure::Margin
            | ReportMeasure::MonthlyProfit
            | ReportMeasure::LifetimeValue
            | ReportMeasure::PastValue
    )
}

/// The age band of a `birth_date` (YYYY-MM-DD) on `today`.
pub fn age_band(birth_date: Option<&str>, today: NaiveDate) -> &'static str {
    let Some(born) = birth_date.and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
    else {
        return "unknown";
    };
    if born > today {
        return "unknown";
    }
    let mut age = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        age -= 1;
    }
    match age {
        ..25 => "under 25",
        25..35 => "25-34",
        35..45 => "35-44",
        45..55 => "45-54",
        55..65 => "55-64",
        _ => "65 and over",
    }
}

/// "2026-03" of a month index.
pub fn month_key(index: i32) -> String {
    format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    )
}

/// Sums of one breakdown row.
#[derive(Debug, Clone, Default)]
struct Sums {
    customers: u64,
    purchasers: u64,
    net: i64,
    margin: i64,
    monthly_profit: f64,
    equity: f64,
    past_value: f64,
    wallet_spend: f64,
    wallet_estimate: f64,
    wallet_customers: u64,
}

impl Sums {
    fn add(&mut self, f: &Facts) {
        self.customers += 1;
        self.purchasers += u64::from(f.purchases > 0);
        self.net = self.net.saturating_add(f.net_minor);
        self.margin = self.margin.saturating_add(f.margin_minor);
        self.monthly_profit += f.monthly_profit.unwrap_or(0.0);
        self.equity += f.lifetime_value.unwrap_or(0.0);
        self.past_value += f.past_value.unwrap_or(0.0);
        if let Some((spend, estimate)) = f.wallet
            && estimate.is_finite()
            && estimate > 0.0
            && spend.is_finite()
        {
            self.wallet_spend += spend.clamp(0.0, estimate);
            self.wallet_estimate += estimate;
            self.wallet_customers += 1;
        }
    }

    fn merge(&mut self, o: &Sums) {
        self.customers += o.customers;
        self.purchasers += o.purchasers;
        self.net = self.net.saturating_add(o.net);
        self.margin = self.margin.saturating_add(o.margin);
        self.monthly_profit += o.monthly_profit;
        self.equity += o.equity;
        self.past_value += o.past_value;
        self.wallet_spend += o.wallet_spend;
        self.wallet_estimate += o.wallet_estimate;
        self.wallet_customers += o.wallet_customers;
    }

    fn to_row(&self, value: &str, c: CurrencyCode) -> BreakdownRow {
        let money = |minor_units: i64| {
            Some(Money {
                currency_code: c.as_str().to_owned(),
                minor_units,
            })
        };
        let average = if self.customers > 0 {
            self.equity / self.customers as f64
        } else {
            0.0
        };
        BreakdownRow {
            value: value.to_owned(),
            customers: self.customers,
            purchasers: self.purchasers,
            net_spend: money(self.net),
            margin: money(self.margin),
            monthly_profit: money(minor(self.monthly_profit, c)),
            equity: money(minor(self.equity, c)),
            average_lifetime_value: money(minor(average, c)),
            past_value: money(minor(self.past_value, c)),
            share_of_wallet: (self.wallet_customers > 0 && self.wallet_estimate > 0.0)
                .then(|| (self.wallet_spend / self.wallet_estimate).clamp(0.0, 1.0)),
            wallet_customers: self.wallet_customers,
        }
    }
}

/// Sums of one month.
#[derive(Debug, Clone, Default)]
struct MonthSums {
    net: i64,
    margin: i64,
    buying: u64,
    new: u64,
    new_spend: i64,
    returning_spend: i64,
}

/// A ranked customer, ordered by value, then by lower id first.
#[derive(Debug, Clone)]
struct Ranked {
    value: f64,
    customer: Uuid,
    name: String,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.value
            .total_cmp(&other.value)
            .then_with(|| other.customer.cmp(&self.customer))
    }
}

/// One ranking being filled: the best `limit` seen so far, worst on top.
struct Top {
    spec: RankingSpec,
    limit: usize,
    /// (dimension index, value) every customer must match.
    filters: Vec<(usize, String)>,
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl Top {
    fn offer(&mut self, f: &Facts, c: CurrencyCode) {
        if !self.filters.iter().all(|(d, v)| f.dimensions[*d] == *v) {
            return;
        }
        let measure = ReportMeasure::try_from(self.spec.measure).unwrap_or_default();
        let Some(value) = f.measure(measure, c).filter(|v| v.is_finite()) else {
            return;
        };
        let entry = Ranked {
            value,
            customer: f.customer_id,
            name: String::new(),
        };
        if self.heap.len() == self.limit {
            match self.heap.peek() {
                Some(Reverse(worst)) if entry > *worst => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        self.heap.push(Reverse(Ranked {
            name: f.display_name.clone(),
            ..entry
        }));
    }

    fn finish(self, c: CurrencyCode) -> Ranking {
        let measure = ReportMeasure::try_from(self.spec.measure).unwrap_or_default();
        let mut best: Vec<Ranked> = self.heap.into_iter().map(|Reverse(r)| r).collect();
        best.sort_by(|a, b| b.cmp(a));
        Ranking {
            spec: Some(self.spec),
            customers: best
                .into_iter()
                .map(|r| RankedCustomer {
                    customer_id: r.customer.to_string(),
                    display_name: r.name,
                    value: r.value,
                    money: is_money(measure).then(|| Money {
                        currency_code: c.as_str().to_owned(),
                        minor_units: minor(r.value, c),
                    }),
                })
                .collect(),
        }
    }
}

/// A customer worth winning back: the value at risk and what it is made of.
#[derive(Debug, Clone)]
struct Lapsing {
    at_risk: Ranked,
    probability_alive: f64,
    lifetime_value: f64,
    past_value: f64,
    days: u32,
    purchases: u64,
}

impl PartialEq for Lapsing {
    fn eq(&self, other: &Self) -> bool {
        self.at_risk == other.at_risk
    }
}
impl Eq for Lapsing {}
impl PartialOrd for Lapsing {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Lapsing {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at_risk.cmp(&other.at_risk)
    }
}

/// The value at risk of a customer, when they belong on the reactivation
/// list: a repeat buyer below [`REACTIVATION_P_ALIVE`] with a lifetime
/// value. Lifetime value over P(alive) is their worth if still active; times
/// the probability they have gone, what is at risk.
pub fn value_at_risk(f: &Facts) -> Option<f64> {
    let p = f.probability_alive.filter(|p| p.is_finite())?;
    let ltv = f.lifetime_value.filter(|v| v.is_finite() && *v > 0.0)?;
    if f.purchases < 2 || p <= 0.0 || p >= REACTIVATION_P_ALIVE {
        return None;
    }
    Some(ltv / p * (1.0 - p))
}

/// The default rankings: the top [`DEFAULT_RANKING`] by every measure.
pub fn default_rankings() -> Vec<RankingSpec> {
    MEASURES
        .iter()
        .map(|m| RankingSpec {
            measure: *m as i32,
            limit: DEFAULT_RANKING,
            filters: Vec::new(),
        })
        .collect()
}

/// A report being built.
pub struct Builder {
    currency: CurrencyCode,
    as_of: DateTime<Utc>,
    total: Sums,
    dimensions: Vec<HashMap<String, Sums>>,
    months: BTreeMap<i32, MonthSums>,
    /// Cohort month → customers active k months later.
    cohorts: BTreeMap<i32, Vec<u64>>,
    rankings: Vec<Top>,
    rfm: [[(u64, i64); 5]; 5],
    rfm_seen: bool,
    /// Bucket index → customers; index 0 is below the first bound.
    histogram: BTreeMap<usize, u64>,
    histogram_seen: bool,
    /// The reactivation list so far, least at risk on top.
    reactivation: BinaryHeap<Reverse<Lapsing>>,
    /// Per RFM frequency score, order-value histogram bucket → buyers.
    peers: [BTreeMap<i32, u64>; 5],
}

impl Builder {
    /// A report as of `as_of` in currency `c`, with `rankings` (checked by
    /// the caller: known measures, limits within 1..=100, known dimensions).
    pub fn new(c: CurrencyCode, as_of: DateTime<Utc>, rankings: Vec<RankingSpec>) -> Builder {
        let rankings = rankings
            .into_iter()
            .map(|spec| Top {
                limit: spec.limit.clamp(1, MAX_RANKING) as usize,
                filters: spec
                    .filters
                    .iter()
                    .filter_map(|f| {
                        let d = ReportDimension::try_from(f.dimension).ok()?;
                        Some((dimension_index(d)?, f.value.clone()))
                    })
                    .collect(),
                heap: BinaryHeap::new(),
                spec,
            })
            .collect();
        Builder {
            currency: c,
            as_of,
            total: Sums::default(),
            dimensions: vec![HashMap::new(); DIMENSIONS.len()],
            months: BTreeMap::new(),
            cohorts: BTreeMap::new(),
            rankings,
            rfm: [[(0, 0); 5]; 5],
            rfm_seen: false,
            histogram: BTreeMap::new(),
            histogram_seen: false,
            reactivation: BinaryHeap::new(),
            peers: Default::default(),
        }
    }

    /// Adds one customer; each customer must be added once.
    pub fn add(&mut self, f: &Facts) {
        self.total.add(f);
        for (held, value) in self.dimensions.iter_mut().zip(&f.dimensions) {
            match held.get_mut(value) {
                Some(sums) => sums.add(f),
                None => {
                    let key = if held.len() < MAX_BUCKETS_HELD {
                        value.as_str()
                    } else {
                        OTHER
                    };
                    held.entry(key.to_owned()).or_default().add(f);
                }
            }
        }
        for (month, net, margin, purchases) in &f.months {
            let m = self.months.entry(*month).or_default();
            m.net = m.net.saturating_add(*net);
            m.margin = m.margin.saturating_add(*margin);
            if *purchases > 0 {
                m.buying += 1;
            }
            if Some(*month) == f.first_month {
                m.new += u64::from(*purchases > 0);
                m.new_spend = m.new_spend.saturating_add(*net);
            } else {
                m.returning_spend = m.returning_spend.saturating_add(*net);
            }
        }
        if let Some(cohort) = f.first_month {
            let span = (month_index(self.as_of) - cohort).max(0) as usize + 1;
            let active = self.cohorts.entry(cohort).or_default();
            if active.len() < span {
                active.resize(span, 0);
            }
            for (month, _, _, purchases) in &f.months {
                let k = month - cohort;
                if *purchases > 0 && k >= 0 && (k as usize) < span {
                    active[k as usize] += 1;
                }
            }
        }
        for top in &mut self.rankings {
            top.offer(f, self.currency);
        }
        if let Some((r, fr)) = f.rfm
            && (1..=5).contains(&r)
            && (1..=5).contains(&fr)
        {
            let cell = &mut self.rfm[r as usize - 1][fr as usize - 1];
            cell.0 += 1;
            cell.1 = cell.1.saturating_add(f.net_minor);
            self.rfm_seen = true;
        }
        if let Some(v) = f.lifetime_value.filter(|v| v.is_finite()) {
            *self.histogram.entry(bucket(v)).or_default() += 1;
            self.histogram_seen = true;
        }
        if let (Some((_, frequency)), Some(v)) = (f.rfm, f.order_value)
            && (1..=5).contains(&frequency)
            && v.is_finite()
            && v >= PEER_SMALLEST
        {
            *self.peers[frequency as usize - 1]
                .entry(order_bucket(v))
                .or_default() += 1;
        }
        if let Some(risk) = value_at_risk(f) {
            let at_risk = Ranked {
                value: risk,
                customer: f.customer_id,
                name: String::new(),
            };
            let full = self.reactivation.len() == REACTIVATION;
            let better = self
                .reactivation
                .peek()
                .is_none_or(|Reverse(worst)| at_risk > worst.at_risk);
            if !full || better {
                if full {
                    self.reactivation.pop();
                }
                self.reactivation.push(Reverse(Lapsing {
                    at_risk: Ranked {
                        name: f.display_name.clone(),
                        ..at_risk
                    },
                    probability_alive: f.probability_alive.unwrap_or(0.0),
                    lifetime_value: f.lifetime_value.unwrap_or(0.0),
                    past_value: f.past_value.unwrap_or(0.0),
                    days: f.recency_days.unwrap_or(0),
                    purchases: f.purchases,
                }));
            }
        }
    }

    /// The peers' median order value per RFM frequency score, from the
    /// customers added so far.
    pub fn peers(&self) -> Peers {
        Peers(std::array::from_fn(|i| {
            let buckets = &self.peers[i];
            let n: u64 = buckets.values().sum();
            // The lower median's bucket, at its geometric middle.
            let mut seen = 0;
            let median = buckets.iter().find_map(|(b, k)| {
                seen += k;
                (seen * 2 >= n).then(|| bucket_middle(*b))
            });
            (n, median)
        }))
    }

    /// The report.
    pub fn finish(self) -> Report {
        let c = self.currency;
        let money = |minor_units: i64| {
            Some(Money {
                currency_code: c.as_str().to_owned(),
                minor_units,
            })
        };
        let breakdowns = DIMENSIONS
            .iter()
            .zip(self.dimensions)
            .map(|(d, held)| Breakdown {
                dimension: *d as i32,
                rows: rows(held, c),
            })
            .collect();
        let months = self
            .months
            .iter()
            .map(|(m, s)| MonthRow {
                month: month_key(*m),
                net_spend: money(s.net),
                margin: money(s.margin),
                buying_customers: s.buying,
                new_customers: s.new,
                returning_customers: s.buying - s.new,
                new_customer_spend: money(s.new_spend),
                returning_customer_spend: money(s.returning_spend),
            })
            .collect();
        let skip = self.cohorts.len().saturating_sub(COHORTS);
        let cohorts = self
            .cohorts
            .into_iter()
            .skip(skip)
            .map(|(m, active)| CohortRow {
                cohort: month_key(m),
                customers: active.first().copied().unwrap_or(0),
                active,
            })
            .collect();
        let rfm_grid = if self.rfm_seen {
            (0..5)
                .flat_map(|r| (0..5).map(move |f| (r, f)))
                .map(|(r, f)| RfmCell {
                    recency: r as u32 + 1,
                    frequency: f as u32 + 1,
                    customers: self.rfm[r][f].0,
                    net_spend: money(self.rfm[r][f].1),
                })
                .collect()
        } else {
            Vec::new()
        };
        let lifetime_value_histogram = match self.histogram.keys().next_back() {
            Some(last) if self.histogram_seen => (0..=*last)
                .map(|i| HistogramBucket {
                    lower: lower_bound(i),
                    customers: self.histogram.get(&i).copied().unwrap_or(0),
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut lapsing: Vec<Lapsing> = self.reactivation.into_iter().map(|Reverse(l)| l).collect();
        lapsing.sort_by(|a, b| b.cmp(a));
        let reactivation = lapsing.into_iter().map(|l| list_entry(l, c)).collect();
        Report {
            as_of: Some(chrono_to_timestamp(self.as_of)),
            currency_code: c.as_str().to_owned(),
            total: Some(self.total.to_row("all", c)),
            breakdowns,
            months,
            cohorts,
            rankings: self.rankings.into_iter().map(|t| t.finish(c)).collect(),
            rfm_grid,
            lifetime_value_histogram,
            model_version: 0,
            reactivation,
            upsell: Vec::new(),
            upsell_peers: Vec::new(),
            category_affinity: Vec::new(),
            cross_sell: Vec::new(),
            category_buyers: 0,
        }
    }
}

/// The histogram bucket of an order value of at least [`PEER_SMALLEST`].
fn order_bucket(v: f64) -> i32 {
    ((v / PEER_SMALLEST).ln() / PEER_BUCKET_RATIO.ln()).floor() as i32
}

/// The geometric middle of an order-value bucket.
fn bucket_middle(b: i32) -> f64 {
    PEER_SMALLEST * PEER_BUCKET_RATIO.powf(f64::from(b) + 0.5)
}

/// Per RFM frequency score (index 0 for score 1): the buyers counted and
/// their median average order value (`None` without any).
#[derive(Debug, Clone, Default)]
pub struct Peers(pub [(u64, Option<f64>); 5]);

impl Peers {
    /// As the report shows them.
    pub fn to_proto(&self, c: CurrencyCode) -> Vec<FrequencyPeers> {
        (self.0.iter().enumerate())
            .filter(|(_, (n, _))| *n > 0)
            .map(|(i, (n, median))| FrequencyPeers {
                frequency: i as u32 + 1,
                customers: *n,
                median_order_value: median.map(|m| Money {
                    currency_code: c.as_str().to_owned(),
                    minor_units: minor(m, c),
                }),
            })
            .collect()
    }
}

/// What the up-sell list reads of a customer (cheap: no model runs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpsellFacts {
    pub customer_id: Uuid,
    /// RFM frequency score, 1-5.
    pub frequency: u8,
    /// Average order value, major units.
    pub order_value: f64,
    pub purchases_last_12_months: u64,
    pub purchases: u64,
    pub days_since_last_purchase: u32,
}

/// The peers' median and the spend left on the table, when `u` belongs on
/// the up-sell list.
pub fn upsell_gap(u: &UpsellFacts, peers: &Peers) -> Option<(f64, f64)> {
    let (n, median) = *peers.0.get(usize::from(u.frequency).checked_sub(1)?)?;
    let median = median?;
    if n < UPSELL_MIN_PEERS
        || u.purchases_last_12_months < UPSELL_MIN_PURCHASES
        || !u.order_value.is_finite()
        || u.order_value >= median * UPSELL_SHARE
    {
        return None;
    }
    Some((
        median,
        (median - u.order_value) * u.purchases_last_12_months as f64,
    ))
}

/// The up-sell list being filled: the largest gaps, smallest on top.
#[derive(Default)]
pub struct Upsell {
    heap: BinaryHeap<Reverse<Ranked>>,
    facts: HashMap<Uuid, (UpsellFacts, f64)>,
}

impl Upsell {
    /// Offers one customer.
    pub fn offer(&mut self, u: &UpsellFacts, peers: &Peers) {
        let Some((median, gap)) = upsell_gap(u, peers) else {
            return;
        };
        let entry = Ranked {
            value: gap,
            customer: u.customer_id,
            name: String::new(),
        };
        if self.heap.len() == UPSELL {
            match self.heap.peek() {
                Some(Reverse(worst)) if entry > *worst => {
                    if let Some(Reverse(gone)) = self.heap.pop() {
                        self.facts.remove(&gone.customer);
                    }
                }
                _ => return,
            }
        }
        self.facts.insert(u.customer_id, (u.clone(), median));
        self.heap.push(Reverse(entry));
    }

    /// The customers on the list.
    pub fn customers(&self) -> Vec<Uuid> {
        self.facts.keys().copied().collect()
    }

    /// The list, largest gap first, with `names` for the customers.
    pub fn finish(self, names: &HashMap<Uuid, String>, c: CurrencyCode) -> Vec<ListEntry> {
        let mut ranked: Vec<Ranked> = self.heap.into_iter().map(|Reverse(r)| r).collect();
        ranked.sort_by(|a, b| b.cmp(a));
        let money = |major: f64| {
            Some(Money {
                currency_code: c.as_str().to_owned(),
                minor_units: minor(major, c),
            })
        };
        let text = |major: f64| format_minor(minor(major, c), c);
        ranked
            .into_iter()
            .filter_map(|r| {
                let (u, median) = self.facts.get(&r.customer)?;
                let reason = format!(
                    "buys as often as peers (frequency score {}) but spends {} a basket against \
                     their median {}; {} purchases in the last 12 months: {} a year more at the \
                     peers' basket",
                    u.frequency,
                    text(u.order_value),
                    text(*median),
                    u.purchases_last_12_months,
                    text(r.value),
                );
                Some(ListEntry {
                    customer_id: r.customer.to_string(),
                    display_name: names.get(&r.customer).cloned().unwrap_or_default(),
                    value: money(r.value),
                    probability_alive: 0.0,
                    lifetime_value: None,
                    past_value: None,
                    days_since_last_purchase: u.days_since_last_purchase,
                    purchases: u.purchases,
                    reason,
                    order_value: money(u.order_value),
                    purchases_last_12_months: u.purchases_last_12_months,
                    ..ListEntry::default()
                })
            })
            .collect()
    }
}

/// A reactivation list entry, with its reason.
fn list_entry(l: Lapsing, c: CurrencyCode) -> ListEntry {
    let money = |major: f64| {
        Some(Money {
            currency_code: c.as_str().to_owned(),
            minor_units: minor(major, c),
        })
    };
    let p = l.probability_alive;
    let if_active = l.lifetime_value / p;
    let reason = format!(
        "P(alive) {p:.2} after {} days without a purchase ({} purchases before); worth {} if \
         still active, {} at risk",
        l.days,
        l.purchases,
        format_minor(minor(if_active, c), c),
        format_minor(minor(l.at_risk.value, c), c),
    );
    ListEntry {
        customer_id: l.at_risk.customer.to_string(),
        display_name: l.at_risk.name,
        value: money(l.at_risk.value),
        probability_alive: p,
        lifetime_value: money(l.lifetime_value),
        past_value: money(l.past_value),
        days_since_last_purchase: l.days,
        purchases: l.purchases,
        reason,
        order_value: None,
        purchases_last_12_months: 0,
        ..ListEntry::default()
    }
}

/// A breakdown's rows: by net spend, highest first (then by value), the
/// first [`MAX_ROWS`], the rest summed in one [`OTHER`] row.
fn rows(held: HashMap<String, Sums>, c: CurrencyCode) -> Vec<BreakdownRow> {
    let mut other = held.get(OTHER).cloned();
    let mut named: Vec<(String, Sums)> = held.into_iter().filter(|(k, _)| k != OTHER).collect();
    named.sort_by(|(ka, a), (kb, b)| b.net.cmp(&a.net).then_with(|| ka.cmp(kb)));
    if named.len() > MAX_ROWS {
        let rest = named.split_off(MAX_ROWS);
        let o = other.get_or_insert_with(Sums::default);
        for (_, s) in &rest {
            o.merge(s);
        }
    }
    let mut out: Vec<BreakdownRow> = named.iter().map(|(k, s)| s.to_row(k, c)).collect();
    if let Some(o) = other {
        out.push(o.to_row(OTHER, c));
    }
    out
}

/// Lower bound of histogram bucket `i`: 0 (and below) for 0, then 10, 30,
/// 100, 300, ...
fn lower_bound(i: usize) -> f64 {
    if i == 0 {
        return 0.0;
    }
    let k = (i - 1) as i32;
    let decade = HISTOGRAM_FIRST_BOUND * 10f64.powi(k / 2);
    if k % 2 == 0 { decade } else { decade * 3.0 }
}

/// The histogram bucket of a value: the last whose lower bound it reaches.
fn bucket(v: f64) -> usize {
    let mut i = 0;
    while i < 40 && v >= lower_bound(i + 1) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests;
