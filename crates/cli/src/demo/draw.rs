//! The random draws the demo's generator makes: a normal variate and a pick
//! from a list, from one seeded generator so a seed gives one sample.

use rand::{Rng, rngs::StdRng};

/// A standard normal variate.
pub(super) fn normal(rng: &mut StdRng) -> f64 {
    // Box-Muller: enough for a demo's spread, no extra dependency.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One of `items`, each as likely.
pub(super) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}
