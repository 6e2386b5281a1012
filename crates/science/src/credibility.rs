//! A customer's expected order value without a spend model: the customer's own average
//! shrunk toward the population's, by how far one customer's average can be trusted.
//!
//! This is Bühlmann's credibility (Bühlmann 1967, "Experience rating and credibility",
//! ASTIN Bulletin 4(3); the form for unequal numbers of observations per risk is
//! Bühlmann & Straub 1970). A customer's average over `n` orders is a noisy reading of the
//! customer's true mean. Two variances say how noisy: how much one customer's orders scatter
//! around that customer's mean (the within variance `s²`), and how much the true means differ
//! from customer to customer (the between variance `a`). The best linear estimate of the
//! customer's mean from their own average `mᵢ` and the population's `m̄` puts the weight
//! `Z = n / (n + k)` on the customer's average, with `k = s² / a`:
//!
//! ```text
//! E[order value] = (n·mᵢ + k·m̄) / (n + k)
//! ```
//!
//! `k` reads as a number of orders: the population's mean counts as much as `k` of the
//! customer's own. Gamma-Gamma's conditional expectation has exactly this form, with
//! `k = (q − 1) / p` and `m̄ = p·v / (q − 1)`, so this is the same kind of answer with the
//! two figures estimated by moments instead of by a likelihood that may not settle.
//!
//! Estimates, from customers `i = 1..r` with `nᵢ ≥ 1` repeat orders of mean `mᵢ` and
//! squared deviations `SSᵢ = Σⱼ (xᵢⱼ − mᵢ)²`, `N = Σ nᵢ`:
//!
//! ```text
//! m̄  = Σ nᵢ·mᵢ / N                                    (the mean of all repeat orders)
//! s² = Σ SSᵢ / Σ (nᵢ − 1)                               (pooled within-customer variance)
//! a  = (Σ nᵢ·(mᵢ − m̄)² − (r − 1)·s²) / (N − Σ nᵢ² / N)   (between-customer variance)
//! ```
//!
//! `m̄` weighs each customer by their orders: it is the average order value in the
//! ordinary sense, and it is the centre the unbiased estimate of `a` is built around (a
//! customer-weighted centre would make `a` biased when order counts differ). `a` takes out
//! the part of the spread of averages that the within noise alone would cause, so it can
//! come out at zero or below; see [`estimate_credibility`] for what then happens.

use crate::error::FitError;

/// The smallest credibility weight used: a customer's single order never counts more than
/// twenty times the population's mean. Fitted Gamma-Gamma models on retail data imply
/// `k = (q − 1) / p` of about 0.15 to 0.5, so this bound only stops a within variance of
/// (nearly) zero from taking every customer's average at face value.
pub const MIN_CREDIBILITY_WEIGHT: f64 = 0.05;

/// The largest credibility weight used: fifty orders of the customer's own weigh as much as
/// the population's mean, which is as good as the population's mean for everyone.
pub const MAX_CREDIBILITY_WEIGHT: f64 = 50.0;

/// The credibility weight used when the data cannot estimate one: a customer's first
/// repeat order counts as much as the population's mean. That shrinks harder than the
/// Gamma-Gamma fits published for retail data imply, so a customer with few orders is not
/// taken at their word on the strength of data that could not say how far to trust it.
pub const FALLBACK_CREDIBILITY_WEIGHT: f64 = 1.0;

/// One repeat customer's order values, summarised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RepeatSpend {
    /// `n`: repeat orders (at least 1).
    pub frequency: u32,
    /// `m`: their mean value, in money units.
    pub mean_value: f64,
    /// `Σ (x − m)²` over those orders, in money units squared (0 for a single order).
    pub squared_deviations: f64,
}

/// A population mean and a credibility weight: enough to shrink any customer's average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShrunkMean {
    /// `m̄`: the population's mean order value, in money units.
    pub population_mean: f64,
    /// `k`: how many of a customer's own orders the population's mean counts as.
    pub k: f64,
}

impl ShrunkMean {
    /// `(n·m + k·m̄) / (n + k)`: the customer's average `mean_value` over `frequency`
    /// orders, shrunk toward the population mean. With no orders, or an average that is not
    /// a finite, non-negative number, the population mean.
    pub fn expected_value(&self, frequency: u32, mean_value: f64) -> f64 {
        if frequency == 0 || !mean_value.is_finite() || mean_value < 0.0 {
            return self.population_mean;
        }
        let n = f64::from(frequency);
        (n * mean_value + self.k * self.population_mean) / (n + self.k)
    }

    /// The weight `n / (n + k)` the customer's own average gets.
    pub fn weight(&self, frequency: u32) -> f64 {
        let n = f64::from(frequency);
        n / (n + self.k)
    }
}

/// What [`estimate_credibility`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Credibility {
    /// The population mean and the weight used.
    pub shrunk: ShrunkMean,
    /// Repeat customers it was estimated from.
    pub customers: usize,
    /// The pooled within-customer variance `s²`, when at least one customer has two orders.
    pub within_variance: Option<f64>,
    /// The between-customer variance `a`, when there are two customers or more and `s²`.
    pub between_variance: Option<f64>,
    /// Why `k` is not `s² / a` as estimated: it was clamped into
    /// [`MIN_CREDIBILITY_WEIGHT`, `MAX_CREDIBILITY_WEIGHT`], or the variances could not
    /// give one. `None` when it is the estimate itself.
    pub k_note: Option<&'static str>,
}

/// Estimates the population mean `m̄` and the credibility weight `k = s² / a` from repeat
/// customers' order values (see the module documentation for the formulas).
///
/// `k` is clamped into [`MIN_CREDIBILITY_WEIGHT`, `MAX_CREDIBILITY_WEIGHT`]. When the
/// variances cannot give it, `k` is fixed and [`Credibility::k_note`] says why: with a
/// single repeat customer, or no customer with two repeat orders,
/// [`FALLBACK_CREDIBILITY_WEIGHT`]; with a between variance of zero or below (averages
/// differ no more than within-customer noise explains), [`MAX_CREDIBILITY_WEIGHT`].
///
/// Errors for no customers, a customer without repeat orders, a mean that is not positive
/// and finite, or squared deviations that are negative or not finite.
pub fn estimate_credibility(customers: &[RepeatSpend]) -> Result<Credibility, FitError> {
    if customers.is_empty() {
        return Err(FitError::NoCustomers);
    }
    for (index, c) in customers.iter().enumerate() {
        if c.frequency == 0 {
            return Err(FitError::NotRepeatCustomer { index });
        }
        if !c.mean_value.is_finite() {
            return Err(FitError::NonFinite {
                index,
                field: "mean_value",
                value: c.mean_value,
            });
        }
        if c.mean_value <= 0.0 {
            return Err(FitError::NonPositiveSpend {
                index,
                value: c.mean_value,
            });
        }
        if !c.squared_deviations.is_finite() {
            return Err(FitError::NonFinite {
                index,
                field: "squared_deviations",
                value: c.squared_deviations,
            });
        }
        if c.squared_deviations < 0.0 {
            return Err(FitError::Negative {
                index,
                field: "squared_deviations",
                value: c.squared_deviations,
            });
        }
    }
    let n = |c: &RepeatSpend| f64::from(c.frequency);
    let orders: f64 = customers.iter().map(n).sum();
    let population_mean = customers.iter().map(|c| n(c) * c.mean_value).sum::<f64>() / orders;
    let degrees: f64 = customers.iter().map(|c| n(c) - 1.0).sum();
    let within = (degrees > 0.0)
        .then(|| customers.iter().map(|c| c.squared_deviations).sum::<f64>() / degrees);
    let r = customers.len() as f64;
    let between = within.filter(|_| customers.len() > 1).map(|s2| {
        let spread: f64 = customers
            .iter()
            .map(|c| n(c) * (c.mean_value - population_mean).powi(2))
            .sum();
        let squares: f64 = customers.iter().map(|c| n(c) * n(c)).sum();
        (spread - (r - 1.0) * s2) / (orders - squares / orders)
    });
    let (k, k_note) = match (within, between) {
        _ if customers.len() == 1 => (
            FALLBACK_CREDIBILITY_WEIGHT,
            Some(
                "only one repeat customer, so how far customers' averages differ cannot be estimated",
            ),
        ),
        (None, _) => (
            FALLBACK_CREDIBILITY_WEIGHT,
            Some(
                "no customer has two repeat orders, so how much one customer's orders vary cannot be estimated",
            ),
        ),
        (Some(s2), Some(a)) if a > 0.0 && (s2 / a).is_finite() => {
            let k = s2 / a;
            if k < MIN_CREDIBILITY_WEIGHT {
                (
                    MIN_CREDIBILITY_WEIGHT,
                    Some(
                        "raised to the smallest weight used: customers' orders barely vary around their own averages",
                    ),
                )
            } else if k > MAX_CREDIBILITY_WEIGHT {
                (
                    MAX_CREDIBILITY_WEIGHT,
                    Some(
                        "lowered to the largest weight used: customers' averages barely differ beyond the noise in their orders",
                    ),
                )
            } else {
                (k, None)
            }
        }
        _ => (
            MAX_CREDIBILITY_WEIGHT,
            Some(
                "the largest weight used: customers' averages differ no more than the noise in their orders explains",
            ),
        ),
    };
    Ok(Credibility {
        shrunk: ShrunkMean { population_mean, k },
        customers: customers.len(),
        within_variance: within,
        between_variance: between,
        k_note,
    })
}

#[cfg(test)]
mod tests;
