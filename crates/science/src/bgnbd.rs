//! The BG/NBD purchase model: Fader, Hardie & Lee (2005), "'Counting Your Customers' the
//! Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284.

mod fit;
#[cfg(test)]
pub(crate) mod fixtures;
mod likelihood;

pub use fit::{BgNbdFit, fit_bg_nbd};

use crate::error::PredictError;
use crate::history::CustomerHistory;
use crate::purchase::params::purchase_model;
use crate::purchase::predict::{expectation, logistic, one_minus_scaled_series};

/// BG/NBD parameters, with `alpha` in the time unit of the data it was fitted on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbdParams {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Scale of the gamma distribution of purchase rates (a time).
    pub alpha: f64,
    /// First shape parameter of the beta distribution of dropout probabilities.
    pub a: f64,
    /// Second shape parameter of the beta distribution of dropout probabilities.
    pub b: f64,
}

/// A BG/NBD model with valid parameters, ready to predict.
///
/// While alive, a customer buys as a Poisson process with rate `λ ~ Gamma(r, α)`; after each
/// repeat purchase they drop out for good with probability `p ~ Beta(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    params: BgNbdParams,
}

purchase_model!(BgNbd: BgNbdParams { r, alpha, a, b });

impl BgNbd {
    /// Probability that the customer has not dropped out by the end of observation.
    ///
    /// `P(alive | x, t_x, T) = 1 / (1 + δ(x>0) · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x))`,
    /// the closing result of Fader, Hardie & Lee (2008), "Computing P(alive) Using the BG/NBD
    /// Model" (Hardie's note 021).
    /// A customer without repeat purchases cannot have dropped out in this model, so gets 1.
    pub fn probability_alive(&self, history: &CustomerHistory) -> Result<f64, PredictError> {
        history.check_for_prediction()?;
        Ok(alive(self.params, history))
    }

    /// Expected repeat purchases in the next `t` time units for a customer with this history.
    ///
    /// Fader, Hardie & Lee (2005), eq. (10):
    /// `E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) ·
    /// ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))] · P(alive)`.
    pub fn conditional_expected_purchases(
        &self,
        history: &CustomerHistory,
        t: f64,
    ) -> Result<f64, PredictError> {
        history.check_for_prediction()?;
        expectation(t, self.params.a, |a| {
            let BgNbdParams { r, alpha, b, .. } = self.params;
            let x = f64::from(history.frequency);
            let remaining =
                one_minus_scaled_series(r + x, b + x, a + b + x - 1.0, t, alpha + history.age)?;
            let alive = alive(BgNbdParams { a, ..self.params }, history);
            Ok((a + b + x - 1.0) / (a - 1.0) * remaining * alive)
        })
    }

    /// Expected repeat purchases in `(0, t]` for a customer picked at random at their first
    /// purchase, with no history.
    ///
    /// Fader, Hardie & Lee (2005), eq. (9):
    /// `E[X(t)] = (a+b-1)/(a-1) · [1 - (α/(α+t))^r · ₂F₁(r, b; a+b-1; t/(α+t))]`.
    pub fn expected_purchases(&self, t: f64) -> Result<f64, PredictError> {
        let BgNbdParams { r, alpha, b, .. } = self.params;
        expectation(t, self.params.a, |a| {
            let remaining = one_minus_scaled_series(r, b, a + b - 1.0, t, alpha)?;
            Ok((a + b - 1.0) / (a - 1.0) * remaining)
        })
    }
}

/// P(alive) under `params` (see [`BgNbd::probability_alive`]).
fn alive(params: BgNbdParams, h: &CustomerHistory) -> f64 {
    if h.frequency == 0 {
        return 1.0;
    }
    let BgNbdParams { r, alpha, a, b } = params;
    let x = f64::from(h.frequency);
    let ln_odds =
        (r + x) * ((alpha + h.age).ln() - (alpha + h.recency).ln()) + a.ln() - (b + x - 1.0).ln();
    logistic(-ln_odds)
}

#[cfg(test)]
mod tests;
