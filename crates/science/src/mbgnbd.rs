//! The MBG/NBD purchase model: Batislam, Denizel & Filiztekin (2007), "Empirical validation
//! and comparison of models for customer base analysis", International Journal of Research
//! in Marketing 24(3), 201–209, with the corrected conditional expectation of Wagner & Hoppe
//! (2008), "Erratum on the MBG/NBD model", IJRM 25(3), 225–226.

mod fit;
mod likelihood;

pub use fit::{MbgNbdFit, fit_mbg_nbd};

use crate::error::PredictError;
use crate::history::CustomerHistory;
use crate::purchase::params::purchase_model;
use crate::purchase::predict::{expectation, logistic, one_minus_scaled_series};

/// MBG/NBD parameters, with `alpha` in the time unit of the data it was fitted on. The same
/// four as BG/NBD, with the same meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MbgNbdParams {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Scale of the gamma distribution of purchase rates (a time).
    pub alpha: f64,
    /// First shape parameter of the beta distribution of dropout probabilities.
    pub a: f64,
    /// Second shape parameter of the beta distribution of dropout probabilities.
    pub b: f64,
}

/// An MBG/NBD model with valid parameters, ready to predict.
///
/// As BG/NBD (Poisson purchases at rate `λ ~ Gamma(r, α)`, dropout probability
/// `p ~ Beta(a, b)`), except that a customer may also drop out straight after the first
/// purchase, so a customer who never came back can be judged gone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MbgNbd {
    params: MbgNbdParams,
}

purchase_model!(MbgNbd: MbgNbdParams { r, alpha, a, b });

impl MbgNbd {
    /// Probability that the customer has not dropped out by the end of observation:
    /// `1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x))` (Batislam et al. 2007, appendix A,
    /// eq. 5). Below 1 even without repeat purchases.
    pub fn probability_alive(&self, history: &CustomerHistory) -> Result<f64, PredictError> {
        history.check_for_prediction()?;
        Ok(alive(self.params, history))
    }

    /// Expected repeat purchases in the next `t` time units for a customer with this history
    /// (Wagner & Hoppe 2008):
    /// `(a+b+x)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x+1; a+b+x; t/(α+T+t))]
    /// · P(alive)`.
    pub fn conditional_expected_purchases(
        &self,
        history: &CustomerHistory,
        t: f64,
    ) -> Result<f64, PredictError> {
        history.check_for_prediction()?;
        expectation(t, self.params.a, |a| {
            let MbgNbdParams { r, alpha, b, .. } = self.params;
            let x = f64::from(history.frequency);
            let remaining =
                one_minus_scaled_series(r + x, b + x + 1.0, a + b + x, t, alpha + history.age)?;
            let alive = alive(MbgNbdParams { a, ..self.params }, history);
            Ok((a + b + x) / (a - 1.0) * remaining * alive)
        })
    }

    /// Expected repeat purchases in `(0, t]` for a customer picked at random at their first
    /// purchase (Batislam et al. 2007):
    /// `b/(a-1) · [1 - (α/(α+t))^r · ₂F₁(r, b+1; a+b; t/(α+t))]`.
    pub fn expected_purchases(&self, t: f64) -> Result<f64, PredictError> {
        let MbgNbdParams { r, alpha, b, .. } = self.params;
        expectation(t, self.params.a, |a| {
            let remaining = one_minus_scaled_series(r, b + 1.0, a + b, t, alpha)?;
            Ok(b / (a - 1.0) * remaining)
        })
    }
}

/// P(alive) under `params` (see [`MbgNbd::probability_alive`]).
fn alive(params: MbgNbdParams, h: &CustomerHistory) -> f64 {
    let MbgNbdParams { r, alpha, a, b } = params;
    let x = f64::from(h.frequency);
    let ln_odds =
        a.ln() - (b + x).ln() + (r + x) * ((alpha + h.age).ln() - (alpha + h.recency).ln());
    logistic(-ln_odds)
}

#[cfg(test)]
mod tests;
