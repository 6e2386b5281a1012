//! Seeded customers drawn from the BG/NBD and Gamma-Gamma stories, in the shape the scoring
//! service fits: whole days (distinct purchase days after the first, recency and age in
//! days, mean repeat spend in cents) or, for comparison, continuous time where no two
//! customers share a history.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::draw::gamma;

/// Population the customers are drawn from; rates per day.
const R: f64 = 0.25;
const ALPHA: f64 = 10.0;
const A: f64 = 0.8;
const B: f64 = 2.5;
const P: f64 = 6.0;
const Q: f64 = 4.0;
const V: f64 = 15.0;
/// Customers are acquired uniformly over the last two years.
const MAX_AGE_DAYS: f64 = 730.0;

/// One customer as both fits and the CSV file see it.
#[derive(Debug, Clone, Copy)]
pub struct Customer {
    pub frequency: u32,
    pub recency: f64,
    pub age: f64,
    /// Mean repeat-purchase value; 0 without repeat purchases.
    pub mean_value: f64,
}

/// How time and money are recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// Whole days, cents: what the service fits; histories repeat heavily.
    Days,
    /// Exact purchase times and values: every history is distinct.
    Continuous,
}

/// `n` customers from a generator seeded with `seed`.
pub fn customers(n: usize, seed: u64, shape: Shape) -> Vec<Customer> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| customer(&mut rng, shape)).collect()
}

fn customer(rng: &mut StdRng, shape: Shape) -> Customer {
    let age = match shape {
        Shape::Days => (rng.random::<f64>() * MAX_AGE_DAYS).floor() + 1.0,
        Shape::Continuous => 1.0 + rng.random::<f64>() * (MAX_AGE_DAYS - 1.0),
    };
    let rate = gamma(rng, R) / ALPHA;
    let (x, y) = (gamma(rng, A), gamma(rng, B));
    let dropout = x / (x + y);
    let (mut frequency, mut recency, mut clock) = (0_u32, 0.0, 0.0);
    loop {
        // A rate that underflowed to zero never buys again.
        if rate <= 0.0 {
            break;
        }
        clock += -(1.0 - rng.random::<f64>()).ln() / rate;
        if clock >= age {
            break;
        }
        let time = match shape {
            Shape::Days => clock.floor(),
            Shape::Continuous => clock,
        };
        // Several purchases on one day count once, as the service counts purchase days.
        if time > recency {
            frequency += 1;
            recency = time;
        }
        if rng.random::<f64>() < dropout {
            break;
        }
    }
    let nu = gamma(rng, Q) / V;
    let mut mean_value = 0.0;
    if frequency > 0 {
        let x = f64::from(frequency);
        // The mean of x Gamma(p, rate ν) orders is Gamma(p·x, rate ν·x).
        mean_value = gamma(rng, P * x) / (nu * x);
        if shape == Shape::Days {
            mean_value = ((mean_value * 100.0).round() / 100.0).max(0.01);
        }
    }
    Customer {
        frequency,
        recency,
        age,
        mean_value,
    }
}
