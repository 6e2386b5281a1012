//! The Pareto/NBD purchase model: Schmittlein, Morrison & Colombo (1987), "Counting Your
//! Customers: Who Are They and What Will They Do Next?", Management Science 33(1), 1–24,
//! with the likelihood and expectations as set out in Fader & Hardie, "A Note on Deriving
//! the Pareto/NBD Model and Related Expressions" (2005).

mod fit;
mod likelihood;

pub use fit::{ParetoNbdFit, fit_pareto_nbd};

use crate::error::PredictError;
use crate::history::CustomerHistory;
use crate::purchase::params::{FourParams, purchase_model};
use crate::purchase::predict::check_horizon;
use likelihood::{PREDICT_MAX_TERMS, alive_weight, branches};

/// Pareto/NBD parameters, with `alpha` and `beta` in the time unit of the data they were
/// fitted on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbdParams {
    /// Shape of the gamma distribution of purchase rates.
    pub r: f64,
    /// Scale of the gamma distribution of purchase rates (a time).
    pub alpha: f64,
    /// Shape of the gamma distribution of dropout rates.
    pub s: f64,
    /// Scale of the gamma distribution of dropout rates (a time).
    pub beta: f64,
}

/// A Pareto/NBD model with valid parameters, ready to predict.
///
/// While alive, a customer buys as a Poisson process with rate `λ ~ Gamma(r, α)`; their
/// lifetime is exponential with rate `μ ~ Gamma(s, β)`, so dropout can happen at any time,
/// not only after a purchase as in BG/NBD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbd {
    params: ParetoNbdParams,
}

purchase_model!(ParetoNbd: ParetoNbdParams { r, alpha, s, beta });

impl ParetoNbd {
    /// Probability that the customer is still alive at the end of observation: the share of
    /// the likelihood that comes from "alive at T" (Fader & Hardie's note, eq. 36).
    ///
    /// [`PredictError::NotConverged`] (with `t` the customer's age) for parameters so
    /// extreme that the hypergeometric series behind it needs millions of terms.
    pub fn probability_alive(&self, history: &CustomerHistory) -> Result<f64, PredictError> {
        history.check_for_prediction()?;
        let b = branches(
            &self.params.to_array(),
            f64::from(history.frequency),
            history.recency,
            history.age,
            PREDICT_MAX_TERMS,
        )
        .map_err(|_| PredictError::NotConverged { t: history.age })?;
        Ok(alive_weight(&b))
    }

    /// Expected repeat purchases in the next `t` time units for a customer with this history
    /// (Fader & Hardie's note, eq. 41):
    /// `P(alive) · (r+x)(β+T) / ((α+T)(s-1)) · [1 - ((β+T)/(β+T+t))^(s-1)]`,
    /// whose `s = 1` limit is `P(alive) · (r+x)/(α+T) · (β+T) · ln(1 + t/(β+T))`.
    pub fn conditional_expected_purchases(
        &self,
        history: &CustomerHistory,
        t: f64,
    ) -> Result<f64, PredictError> {
        check_horizon(t)?;
        let alive = self.probability_alive(history)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        let ParetoNbdParams { r, alpha, s, beta } = self.params;
        let x = f64::from(history.frequency);
        let horizon = beta + history.age;
        let value =
            alive * (r + x) / (alpha + history.age) * horizon * lifetime_share(s, t / horizon);
        Ok(value.max(0.0))
    }

    /// Expected repeat purchases in `(0, t]` for a customer picked at random at their first
    /// purchase (Fader & Hardie's note, eq. 27):
    /// `r·β / (α·(s-1)) · [1 - (β/(β+t))^(s-1)]`.
    pub fn expected_purchases(&self, t: f64) -> Result<f64, PredictError> {
        check_horizon(t)?;
        let ParetoNbdParams { r, alpha, s, beta } = self.params;
        Ok((r / alpha * beta * lifetime_share(s, t / beta)).max(0.0))
    }
}

/// `[1 - (1+u)^-(s-1)] / (s-1)`, and its limit `ln(1+u)` at `s = 1`, without cancellation:
/// the expected time alive in the coming period, in units of the dropout scale.
fn lifetime_share(s: f64, u: f64) -> f64 {
    let ln_growth = u.ln_1p();
    if s == 1.0 {
        ln_growth
    } else {
        -(-(s - 1.0) * ln_growth).exp_m1() / (s - 1.0)
    }
}

#[cfg(test)]
mod tests;
