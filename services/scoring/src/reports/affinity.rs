//! Category affinity from co-purchase, and the cross-sell list it makes.
//! Pure arithmetic, no I/O: the run feeds each customer's categories once
//! ([`Counter`]), reads the pairs ([`Affinity`]), then offers each customer
//! again for the list ([`CrossSell`]). Memory is bounded by the categories
//! counted ([`MAX_CATEGORIES`], a square of counts) and the list's length,
//! never by the customers.
//!
//! Among the `n` customers with a purchase in some category, with `a` who
//! bought A, `b` who bought B and `ab` who bought both: support is `ab / n`,
//! confidence of "A, so B" is `ab / a` (P(B | A)), and lift is that over
//! P(B) = `b / n`.

use std::{
    cmp::{Ordering, Reverse},
    collections::{BinaryHeap, HashMap, HashSet},
};

use rapport_kit::domain::{CurrencyCode, format_minor};
use rapport_proto::v1::{CategoryAffinity, ListEntry, Money};
use uuid::Uuid;

use crate::value::histories::minor;

/// Categories counted: those with the most buyers, chosen before the pass.
/// Pairs are counted in a square of this side, so it bounds the memory.
pub const MAX_CATEGORIES: usize = 200;
/// Pairs a report keeps (and the cross-sell list reads), by lift.
pub const MAX_PAIRS: usize = 200;
/// Fewest customers who bought both for a pair to count, by default.
pub const MIN_PAIR_CUSTOMERS: u64 = 5;
/// Customers on the cross-sell list.
pub const CROSS_SELL: usize = 100;

/// Counts buyers and co-buyers over one pass.
pub struct Counter {
    names: Vec<String>,
    index: HashMap<String, usize>,
    buyers: Vec<u64>,
    /// `both[i * len + j]`: customers who bought categories i and j.
    both: Vec<u64>,
    /// Customers with a purchase in any category, counted or not.
    customers: u64,
    min_customers: u64,
}

impl Counter {
    /// Counts the categories `held` (at most [`MAX_CATEGORIES`] are kept);
    /// a pair counts when at least `min_customers` bought both.
    pub fn new(mut held: Vec<String>, min_customers: u64) -> Counter {
        held.truncate(MAX_CATEGORIES);
        let index = (held.iter().enumerate())
            .map(|(i, c)| (c.clone(), i))
            .collect();
        let n = held.len();
        Counter {
            names: held,
            index,
            buyers: vec![0; n],
            both: vec![0; n * n],
            customers: 0,
            min_customers: min_customers.max(1),
        }
    }

    /// Whether no category is counted (the pass can skip reading them).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Adds one customer's categories bought; each customer once, each
    /// category once (repeats are ignored).
    pub fn add<'a>(&mut self, bought: impl IntoIterator<Item = &'a str>) {
        let mut seen: Vec<usize> = Vec::new();
        let mut any = false;
        for c in bought {
            any = true;
            if let Some(&i) = self.index.get(c)
                && !seen.contains(&i)
            {
                seen.push(i);
            }
        }
        self.customers += u64::from(any);
        let n = self.names.len();
        for &i in &seen {
            self.buyers[i] += 1;
            for &j in &seen {
                if i != j {
                    self.both[i * n + j] += 1;
                }
            }
        }
    }

    /// The pairs: both ways, kept when enough customers bought both and the
    /// lift is above 1; by lift, then confidence, at most [`MAX_PAIRS`].
    pub fn finish(self) -> Affinity {
        let n = self.names.len();
        let total = self.customers as f64;
        let mut rules = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let both = self.both[i * n + j];
                if i == j || both < self.min_customers {
                    continue;
                }
                let (a, b) = (self.buyers[i], self.buyers[j]);
                let confidence = both as f64 / a as f64;
                // One division of whole counts, so A→B and B→A have the
                // same lift to the last bit, and tie as they should.
                let lift = (both * self.customers) as f64 / (a * b) as f64;
                if lift > 1.0 {
                    rules.push(Rule {
                        category: self.names[i].clone(),
                        also_bought: self.names[j].clone(),
                        customers: both,
                        category_customers: a,
                        also_bought_customers: b,
                        support: both as f64 / total,
                        confidence,
                        lift,
                    });
                }
            }
        }
        rules.sort_by(|x, y| {
            (y.lift.total_cmp(&x.lift))
                .then(y.confidence.total_cmp(&x.confidence))
                .then_with(|| x.category.cmp(&y.category))
                .then_with(|| x.also_bought.cmp(&y.also_bought))
        });
        rules.truncate(MAX_PAIRS);
        Affinity::new(self.customers, rules)
    }
}

/// One co-purchase pair: customers who bought `category` also bought
/// `also_bought`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub category: String,
    pub also_bought: String,
    pub customers: u64,
    pub category_customers: u64,
    pub also_bought_customers: u64,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
}

/// The pairs of one report, indexed by the category bought.
#[derive(Debug, Clone, Default)]
pub struct Affinity {
    /// Customers with a purchase in any category.
    pub customers: u64,
    pub rules: Vec<Rule>,
    by_category: HashMap<String, Vec<usize>>,
}

impl Affinity {
    fn new(customers: u64, rules: Vec<Rule>) -> Affinity {
        let mut by_category: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            by_category.entry(r.category.clone()).or_default().push(i);
        }
        Affinity {
            customers,
            rules,
            by_category,
        }
    }

    /// Whether there is no pair (and so no cross-sell list).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// As a report stores them.
    pub fn to_proto(&self) -> Vec<CategoryAffinity> {
        to_proto(&self.rules)
    }

    /// Read back from a stored report's pairs.
    pub fn from_proto(customers: u64, pairs: &[CategoryAffinity]) -> Affinity {
        let rules = (pairs.iter())
            .map(|p| Rule {
                category: p.category.clone(),
                also_bought: p.also_bought.clone(),
                customers: p.customers,
                category_customers: p.category_customers,
                also_bought_customers: p.also_bought_customers,
                support: p.support,
                confidence: p.confidence,
                lift: p.lift,
            })
            .collect();
        Affinity::new(customers, rules)
    }

    /// The categories a customer who bought `bought` has not, each with the
    /// pair that recommends it best: the highest confidence from a category
    /// bought (then lift, then support, then by name); most likely first.
    pub fn candidates(&self, bought: &HashSet<&str>) -> Vec<&Rule> {
        let mut best: HashMap<&str, &Rule> = HashMap::new();
        for c in bought {
            for &i in self.by_category.get(*c).into_iter().flatten() {
                let r = &self.rules[i];
                if bought.contains(r.also_bought.as_str()) {
                    continue;
                }
                let held = best.entry(r.also_bought.as_str()).or_insert(r);
                if better(r, held) == Ordering::Greater {
                    *held = r;
                }
            }
        }
        let mut out: Vec<&Rule> = best.into_values().collect();
        out.sort_by(|a, b| better(b, a));
        out
    }
}

/// Pairs as the API shows them.
pub fn to_proto<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> Vec<CategoryAffinity> {
    (rules.into_iter())
        .map(|r| CategoryAffinity {
            category: r.category.clone(),
            also_bought: r.also_bought.clone(),
            customers: r.customers,
            category_customers: r.category_customers,
            also_bought_customers: r.also_bought_customers,
            support: r.support,
            confidence: r.confidence,
            lift: r.lift,
        })
        .collect()
}

/// How `a` compares with `b` as a recommendation: greater is better.
fn better(a: &Rule, b: &Rule) -> Ordering {
    (a.confidence.total_cmp(&b.confidence))
        .then(a.lift.total_cmp(&b.lift))
        .then(a.support.total_cmp(&b.support))
        .then_with(|| b.also_bought.cmp(&a.also_bought))
        .then_with(|| b.category.cmp(&a.category))
}

/// What the cross-sell list reads of a customer's score.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrossSellFacts {
    pub customer_id: Uuid,
    /// Average order value, major units.
    pub order_value: f64,
    pub purchases: u64,
    pub days_since_last_purchase: u32,
}

/// A listed customer's expected value, ordered by value then lower id first.
#[derive(Debug, Clone, PartialEq)]
struct Pick(f64, Uuid);

impl Eq for Pick {}
impl PartialOrd for Pick {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pick {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// The cross-sell list being filled: the highest expected values, lowest on
/// top.
#[derive(Default)]
pub struct CrossSell {
    heap: BinaryHeap<Reverse<Pick>>,
    held: HashMap<Uuid, (CrossSellFacts, Rule)>,
}

impl CrossSell {
    /// Offers one customer with the categories they bought: their best
    /// recommendation, worth its confidence times their average order value.
    pub fn offer(&mut self, f: &CrossSellFacts, bought: &HashSet<&str>, affinity: &Affinity) {
        let Some(rule) = affinity.candidates(bought).into_iter().next() else {
            return;
        };
        let value = rule.confidence * f.order_value;
        if !value.is_finite() || value <= 0.0 {
            return;
        }
        let pick = Pick(value, f.customer_id);
        if self.heap.len() == CROSS_SELL {
            match self.heap.peek() {
                Some(Reverse(worst)) if pick > *worst => {
                    if let Some(Reverse(gone)) = self.heap.pop() {
                        self.held.remove(&gone.1);
                    }
                }
                _ => return,
            }
        }
        self.held.insert(f.customer_id, (f.clone(), rule.clone()));
        self.heap.push(Reverse(pick));
    }

    /// The customers on the list.
    pub fn customers(&self) -> Vec<Uuid> {
        self.held.keys().copied().collect()
    }

    /// The list, highest expected value first, with `names` for the
    /// customers.
    pub fn finish(self, names: &HashMap<Uuid, String>, c: CurrencyCode) -> Vec<ListEntry> {
        let mut picks: Vec<Pick> = self.heap.into_iter().map(|Reverse(p)| p).collect();
        picks.sort_by(|a, b| b.cmp(a));
        let money = |major: f64| {
            Some(Money {
                currency_code: c.as_str().to_owned(),
                minor_units: minor(major, c),
            })
        };
        picks
            .into_iter()
            .filter_map(|Pick(value, id)| {
                let (f, r) = self.held.get(&id)?;
                Some(ListEntry {
                    customer_id: id.to_string(),
                    display_name: names.get(&id).cloned().unwrap_or_default(),
                    value: money(value),
                    days_since_last_purchase: f.days_since_last_purchase,
                    purchases: f.purchases,
                    reason: reason(r, f.order_value, value, c),
                    order_value: money(f.order_value),
                    recommended_category: r.also_bought.clone(),
                    bought_category: r.category.clone(),
                    confidence: r.confidence,
                    lift: r.lift,
                    support: r.support,
                    ..ListEntry::default()
                })
            })
            .collect()
    }
}

/// Why a customer is on the list, for people.
pub fn reason(r: &Rule, order_value: f64, value: f64, c: CurrencyCode) -> String {
    let text = |major: f64| format_minor(minor(major, c), c);
    format!(
        "bought {} but not {}: {} of {} {} buyers also bought {} (confidence {:.2}, lift {:.2}, \
         support {:.2}); {:.2} of a {} basket is {}",
        r.category,
        r.also_bought,
        r.customers,
        r.category_customers,
        r.category,
        r.also_bought,
        r.confidence,
        r.lift,
        r.support,
        r.confidence,
        text(order_value),
        text(value),
    )
}

#[cfg(test)]
mod tests;
