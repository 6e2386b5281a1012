//! A seeded, realistic sample: intermediaries and head offices, businesses
//! under them, and consumers of five habits (loyal, regular, occasional,
//! one-time, lapsed), each with his own rate and basket size.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::Serialize;

/// One customer row as an ERP exports it.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerRow {
    /// ERP customer number.
    pub customer_id: String,
    /// Person or company name.
    pub name: String,
    /// person, business or intermediary.
    pub kind: &'static str,
    /// Email address (example.com).
    pub email: String,
    /// Phone number.
    pub phone: String,
    /// Parent account or intermediary customer number.
    pub parent_id: String,
    /// yes or no.
    pub consent_email: &'static str,
    /// yes or no.
    pub consent_sms: &'static str,
    /// Sales region.
    pub region: &'static str,
    /// Industry, for businesses.
    pub industry: &'static str,
    /// Age band, for persons.
    pub age_band: &'static str,
    /// Estimated yearly spend in the category, in EUR.
    pub wallet_estimate: String,
    /// The habit the generator gave this customer (not a Rapport field).
    pub habit: &'static str,
}

/// One transaction row as an ERP exports it.
#[derive(Debug, Clone, Serialize)]
pub struct TransactionRow {
    /// ERP document number.
    pub transaction_id: String,
    /// ERP customer number.
    pub customer_id: String,
    /// purchase or refund.
    pub kind: &'static str,
    /// RFC 3339.
    pub occurred_at: String,
    /// EUR with two decimals.
    pub amount: String,
    /// Always EUR.
    pub currency: &'static str,
    /// Margin in EUR.
    pub margin: String,
    /// Product category.
    pub category: &'static str,
    #[serde(skip)]
    cents: i64,
    #[serde(skip)]
    refund: bool,
}

/// A generated sample.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Parents first, so every parent precedes its children.
    pub customers: Vec<CustomerRow>,
    /// In time order.
    pub transactions: Vec<TransactionRow>,
}

impl Sample {
    /// Writes both CSV files.
    pub fn write_csv(&self, customers: &Path, transactions: &Path) -> anyhow::Result<()> {
        super::write_rows(customers, &self.customers)?;
        super::write_rows(transactions, &self.transactions)
    }

    /// Purchases less refunds, in cents.
    pub fn net_spend_minor(&self) -> i64 {
        self.transactions
            .iter()
            .map(|t| if t.refund { -t.cents } else { t.cents })
            .sum()
    }

    /// Customers with at least one transaction.
    pub fn customers_with_transactions(&self) -> usize {
        let ids: std::collections::HashSet<&str> = self
            .transactions
            .iter()
            .map(|t| t.customer_id.as_str())
            .collect();
        ids.len()
    }
}

const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloe", "David", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kira",
    "Luca", "Maya", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wim", "Yara",
];
const LAST: &[&str] = &[
    "Adler", "Berg", "Costa", "Dahl", "Engel", "Fischer", "Garcia", "Horvat", "Ivanova", "Jensen",
    "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka",
    "Weber",
];
const COMPANY: &[&str] = &[
    "Alder",
    "Birch",
    "Cedar",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Northwind",
    "Orbit",
    "Pioneer",
    "Quarry",
    "Ridge",
    "Summit",
    "Tidal",
];
const SUFFIX: &[&str] = &[
    "Trading",
    "Supplies",
    "Logistics",
    "Foods",
    "Works",
    "Partners",
    "Retail",
];
const REGIONS: &[&str] = &["north", "south", "east", "west", "central"];
const INDUSTRIES: &[&str] = &[
    "retail",
    "manufacturing",
    "hospitality",
    "healthcare",
    "logistics",
];
const AGE_BANDS: &[&str] = &["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
const CATEGORIES: &[&str] = &["groceries", "apparel", "electronics", "home", "services"];

#[derive(Clone, Copy)]
struct Habit {
    name: &'static str,
    kind: &'static str,
    /// Mean days between purchases.
    gap_days: f64,
    /// Median basket in EUR.
    basket: f64,
}

const INTERMEDIARY: Habit = Habit {
    name: "intermediary",
    kind: "intermediary",
    gap_days: 45.0,
    basket: 400.0,
};
const HEAD_OFFICE: Habit = Habit {
    name: "head-office",
    kind: "business",
    gap_days: 60.0,
    basket: 1500.0,
};
const BUSINESS: Habit = Habit {
    name: "business",
    kind: "business",
    gap_days: 21.0,
    basket: 900.0,
};
const PERSONS: &[(f64, Habit)] = &[
    (
        0.15,
        Habit {
            name: "loyal",
            kind: "person",
            gap_days: 12.0,
            basket: 75.0,
        },
    ),
    (
        0.30,
        Habit {
            name: "regular",
            kind: "person",
            gap_days: 30.0,
            basket: 55.0,
        },
    ),
    (
        0.30,
        Habit {
            name: "occasional",
            kind: "person",
            gap_days: 95.0,
            basket: 60.0,
        },
    ),
    (
        0.15,
        Habit {
            name: "one-time",
            kind: "person",
            gap_days: f64::INFINITY,
            basket: 45.0,
        },
    ),
    (
        0.10,
        Habit {
            name: "lapsed",
            kind: "person",
            gap_days: 25.0,
            basket: 65.0,
        },
    ),
];

fn normal(rng: &mut StdRng) -> f64 {
    // Box-Muller: enough for a demo's spread, no extra dependency.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn cents(eur: f64) -> i64 {
    (eur * 100.0).round().max(100.0) as i64
}

fn eur(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Generates `n` customers (at least 60) and their transactions over `months`
/// months ending at `end`. The same seed gives the same sample.
pub fn generate(seed: u64, n: usize, months: u32, end: DateTime<Utc>) -> Sample {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = n.max(60);
    let window_days = f64::from(months) * 30.44;
    let start = end - Duration::seconds((window_days * 86_400.0) as i64);
    let n_intermediaries = (n / 300).max(3);
    let n_heads = (n / 75).max(5);
    let n_businesses = n * 15 / 100;

    let mut habits: Vec<Habit> = Vec::with_capacity(n);
    habits.extend(std::iter::repeat_n(INTERMEDIARY, n_intermediaries));
    habits.extend(std::iter::repeat_n(HEAD_OFFICE, n_heads));
    habits.extend(std::iter::repeat_n(BUSINESS, n_businesses));
    while habits.len() < n {
        let x: f64 = rng.random();
        let mut acc = 0.0;
        let habit = PERSONS.iter().find(|(w, _)| {
            acc += w;
            x < acc
        });
        habits.push(habit.map(|(_, h)| *h).unwrap_or(PERSONS[1].1));
    }

    let mut customers = Vec::with_capacity(n);
    let mut transactions = Vec::new();
    let mut next_tx = 1u64;
    for (i, habit) in habits.iter().enumerate() {
        let id = format!("C{:05}", i + 1);
        let region = *pick(&mut rng, REGIONS);
        let (name, email, industry, age_band, parent_id) = match habit.kind {
            "person" => {
                let (f, l) = (*pick(&mut rng, FIRST), *pick(&mut rng, LAST));
                let email = format!("{}.{}{}@example.com", f.to_lowercase(), l.to_lowercase(), i);
                (
                    format!("{f} {l}"),
                    email,
                    "",
                    *pick(&mut rng, AGE_BANDS),
                    String::new(),
                )
            }
            _ => {
                let name = format!(
                    "{} {} {}",
                    pick(&mut rng, COMPANY),
                    pick(&mut rng, SUFFIX),
                    i
                );
                let email = format!("orders{i}@example.com");
                // Businesses sit under a head office or an intermediary.
                let parent = if habit.name == "business" {
                    match rng.random_range(0..10) {
                        0..=4 => format!(
                            "C{:05}",
                            n_intermediaries + 1 + rng.random_range(0..n_heads)
                        ),
                        5..=7 => format!("C{:05}", 1 + rng.random_range(0..n_intermediaries)),
                        _ => String::new(),
                    }
                } else {
                    String::new()
                };
                (name, email, *pick(&mut rng, INDUSTRIES), "", parent)
            }
        };
        let rate_mult = (0.45 * normal(&mut rng)).exp();
        let basket_mult = (0.35 * normal(&mut rng)).exp();
        let yearly = 365.0 / habit.gap_days.max(1.0) * habit.basket * basket_mult;
        let wallet = if habit.gap_days.is_finite() {
            yearly * (1.5 + 3.0 * rng.random::<f64>())
        } else {
            300.0
        };
        customers.push(CustomerRow {
            customer_id: id.clone(),
            name,
            kind: habit.kind,
            email,
            phone: format!("+49 30 {:07}", rng.random_range(1_000_000..9_999_999)),
            parent_id,
            consent_email: if rng.random::<f64>() < 0.7 {
                "yes"
            } else {
                "no"
            },
            consent_sms: if rng.random::<f64>() < 0.3 {
                "yes"
            } else {
                "no"
            },
            region,
            industry,
            age_band,
            wallet_estimate: format!("{:.0}", wallet),
            habit: habit.name,
        });

        // Customers join throughout the window; loyal ones tend to be older.
        let joined = rng
            .random::<f64>()
            .powf(if habit.name == "loyal" { 2.0 } else { 1.0 })
            * window_days
            * 0.9;
        let stop_day = if habit.name == "lapsed" {
            joined + (window_days - joined) * rng.random_range(0.2..0.5)
        } else {
            window_days
        };
        let mut day = joined;
        loop {
            let at = start + Duration::seconds((day * 86_400.0) as i64);
            if day > stop_day || at > end {
                break;
            }
            let amount = cents(habit.basket * basket_mult * (0.4 * normal(&mut rng)).exp());
            let category = *pick(&mut rng, CATEGORIES);
            let margin = amount * rng.random_range(18..42) / 100;
            transactions.push(TransactionRow {
                transaction_id: format!("T{next_tx:08}"),
                customer_id: id.clone(),
                kind: "purchase",
                occurred_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                amount: eur(amount),
                currency: "EUR",
                margin: eur(margin),
                category,
                cents: amount,
                refund: false,
            });
            next_tx += 1;
            if rng.random::<f64>() < 0.03 {
                let back = at + Duration::days(rng.random_range(2..20));
                if back < end {
                    let refunded = if rng.random::<bool>() {
                        amount
                    } else {
                        amount / 2
                    };
                    transactions.push(TransactionRow {
                        transaction_id: format!("T{next_tx:08}"),
                        customer_id: id.clone(),
                        kind: "refund",
                        occurred_at: back.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        amount: eur(refunded),
                        currency: "EUR",
                        margin: String::new(),
                        category,
                        cents: refunded,
                        refund: true,
                    });
                    next_tx += 1;
                }
            }
            if !habit.gap_days.is_finite() {
                break;
            }
            let gap = -habit.gap_days / rate_mult * rng.random::<f64>().max(1e-9).ln();
            day += gap.max(0.5);
        }
    }
    transactions.sort_by(|a, b| a.occurred_at.cmp(&b.occurred_at));
    Sample {
        customers,
        transactions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sample_and_parents_first() {
        let end = Utc::now();
        let a = generate(7, 600, 15, end);
        let b = generate(7, 600, 15, end);
        assert_eq!(a.transactions.len(), b.transactions.len());
        assert_eq!(a.net_spend_minor(), b.net_spend_minor());
        assert_eq!(a.customers.len(), 600);
        let position: std::collections::HashMap<&str, usize> = a
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| (c.customer_id.as_str(), i))
            .collect();
        for (i, c) in a.customers.iter().enumerate() {
            if !c.parent_id.is_empty() {
                assert!(
                    position[c.parent_id.as_str()] < i,
                    "{} precedes its parent",
                    c.customer_id
                );
            }
        }
        let habits: std::collections::HashSet<&str> = a.customers.iter().map(|c| c.habit).collect();
        assert!(habits.len() >= 7, "kinds of customers: {habits:?}");
        assert!(a.transactions.iter().any(|t| t.kind == "refund"));
        assert!(
            a.transactions
                .iter()
                .all(|t| t.occurred_at <= end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        );
    }
}
