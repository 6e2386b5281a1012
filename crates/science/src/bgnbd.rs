//! The BG/NBD purchase model: Fader, Hardie & Lee (2005), "'Counting Your Customers' the
//! Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275–284.
//!
//! While alive, a customer buys as a Poisson process with rate `λ ~ Gamma(r, α)`; after each
//! repeat purchase they drop out for good with probability `p ~ Beta(a, b)`.

mod fit;
mod likelihood;

pub use fit::{BgNbdFit, fit_bg_nbd};

use crate::error::{ParameterError, PredictError, check_positive};
use crate::history::CustomerHistory;
use crate::special::{ScaledSum, hyp2f1};

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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    params: BgNbdParams,
}

/// Within this distance of `a = 1` the closed forms divide zero by zero; the prediction is
/// then the mean of the values at `1 ± A_NEAR_ONE`, which is accurate to `O(A_NEAR_ONE²)`.
const A_NEAR_ONE: f64 = 1e-4;

impl BgNbd {
    /// A model from parameters; each must be positive and finite.
    pub fn new(params: BgNbdParams) -> Result<Self, ParameterError> {
        check_positive("r", params.r)?;
        check_positive("alpha", params.alpha)?;
        check_positive("a", params.a)?;
        check_positive("b", params.b)?;
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> BgNbdParams {
        self.params
    }

    fn with_a(&self, a: f64) -> Self {
        Self {
            params: BgNbdParams { a, ..self.params },
        }
    }

    /// Probability that the customer has not dropped out by the end of observation.
    ///
    /// `P(alive | x, t_x, T) = 1 / (1 + δ(x>0) · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x))`,
    /// the closing result of Fader, Hardie & Lee (2008), "Computing P(alive) Using the BG/NBD
    /// Model" (Hardie's note 021).
    /// A customer without repeat purchases cannot have dropped out in this model, so gets 1.
    pub fn probability_alive(&self, history: &CustomerHistory) -> Result<f64, PredictError> {
        history.check_for_prediction()?;
        Ok(self.alive(history))
    }

    fn alive(&self, h: &CustomerHistory) -> f64 {
        if h.frequency == 0 {
            return 1.0;
        }
        let BgNbdParams { r, alpha, a, b } = self.params;
        let x = f64::from(h.frequency);
        let ln_odds = (r + x) * ((alpha + h.age).ln() - (alpha + h.recency).ln()) + a.ln()
            - (b + x - 1.0).ln();
        logistic(-ln_odds)
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
        check_horizon(t)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        self.near_a_one(|m| m.conditional(history, t))
    }

    fn conditional(&self, h: &CustomerHistory, t: f64) -> Result<f64, PredictError> {
        let BgNbdParams { r, alpha, a, b } = self.params;
        let x = f64::from(h.frequency);
        let remaining = one_minus_scaled_series(r + x, b + x, a + b + x - 1.0, t, alpha + h.age)?;
        let value = (a + b + x - 1.0) / (a - 1.0) * remaining * self.alive(h);
        Ok(value.max(0.0))
    }

    /// Expected repeat purchases in `(0, t]` for a customer picked at random at their first
    /// purchase, with no history.
    ///
    /// Fader, Hardie & Lee (2005), eq. (9):
    /// `E[X(t)] = (a+b-1)/(a-1) · [1 - (α/(α+t))^r · ₂F₁(r, b; a+b-1; t/(α+t))]`.
    pub fn expected_purchases(&self, t: f64) -> Result<f64, PredictError> {
        check_horizon(t)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        self.near_a_one(|m| {
            let BgNbdParams { r, alpha, a, b } = m.params;
            let remaining = one_minus_scaled_series(r, b, a + b - 1.0, t, alpha)?;
            Ok(((a + b - 1.0) / (a - 1.0) * remaining).max(0.0))
        })
    }

    fn near_a_one(
        &self,
        f: impl Fn(&Self) -> Result<f64, PredictError>,
    ) -> Result<f64, PredictError> {
        let a = self.params.a;
        if (a - 1.0).abs() < A_NEAR_ONE {
            let low = f(&self.with_a(1.0 - A_NEAR_ONE))?;
            let high = f(&self.with_a(1.0 + A_NEAR_ONE))?;
            Ok(0.5 * (low + high))
        } else {
            f(self)
        }
    }
}

pub(crate) fn check_horizon(t: f64) -> Result<(), PredictError> {
    if t.is_finite() && t >= 0.0 {
        Ok(())
    } else {
        Err(PredictError::InvalidInput {
            field: "t",
            value: t,
            reason: "the horizon must be a finite, non-negative time",
        })
    }
}

/// `1 / (1 + e^-u)` without overflow.
pub(crate) fn logistic(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// `1 - (s/(s+t))^A · ₂F₁(A, B; C; t/(s+t))`, the bracket shared by eqs. (9) and (10).
///
/// For a positive series the power and the series are combined in logs and the difference
/// from 1 taken with `expm1`, so short horizons keep their digits.
pub(crate) fn one_minus_scaled_series(
    big_a: f64,
    big_b: f64,
    big_c: f64,
    t: f64,
    s: f64,
) -> Result<f64, PredictError> {
    let z = t / (s + t);
    // ln(1 - z), from whichever form loses fewer digits.
    let ln_one_minus_z = if z < 0.5 {
        (-z).ln_1p()
    } else {
        (s / (s + t)).ln()
    };
    let series: ScaledSum =
        hyp2f1(big_a, big_b, big_c, z).map_err(|_| PredictError::NotConverged { t })?;
    match series.ln() {
        Some(ln_f) => Ok(-(ln_f + big_a * ln_one_minus_z).exp_m1()),
        // The series is negative only for C < 0, where it is small and needs no care.
        None => Ok(1.0 - series.value() * (big_a * ln_one_minus_z).exp()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdnow_like() -> BgNbd {
        BgNbd::new(BgNbdParams {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        })
        .unwrap()
    }

    #[test]
    fn rejects_bad_parameters() {
        let bad = BgNbdParams {
            r: 0.2,
            alpha: -1.0,
            a: 1.0,
            b: 1.0,
        };
        assert_eq!(BgNbd::new(bad).unwrap_err().name, "alpha");
        let nan = BgNbdParams { r: f64::NAN, ..bad };
        assert_eq!(BgNbd::new(nan).unwrap_err().name, "r");
    }

    #[test]
    fn no_repeat_purchases_means_alive() {
        let model = cdnow_like();
        let p = model
            .probability_alive(&CustomerHistory::new(0, 0.0, 30.0))
            .unwrap();
        assert_eq!(p, 1.0);
    }

    #[test]
    fn long_silence_lowers_p_alive() {
        let model = cdnow_like();
        let recent = model
            .probability_alive(&CustomerHistory::new(4, 38.0, 39.0))
            .unwrap();
        let silent = model
            .probability_alive(&CustomerHistory::new(4, 5.0, 39.0))
            .unwrap();
        assert!(
            recent > 0.8 && silent < 0.05 && silent > 0.0,
            "{recent} {silent}"
        );
    }

    #[test]
    fn expected_purchases_near_a_equal_one_is_continuous() {
        let base = cdnow_like().params();
        let at = |a: f64| BgNbd::new(BgNbdParams { a, ..base }).unwrap();
        let h = CustomerHistory::new(3, 20.0, 30.0);
        let inside = at(1.0 + 2e-5)
            .conditional_expected_purchases(&h, 12.0)
            .unwrap();
        let outside = at(1.0 + 3e-4)
            .conditional_expected_purchases(&h, 12.0)
            .unwrap();
        assert!(
            (inside - outside).abs() < 1e-3 * outside,
            "{inside} vs {outside}"
        );
        let exactly = at(1.0).expected_purchases(12.0).unwrap();
        let nearby = at(1.0 + 3e-4).expected_purchases(12.0).unwrap();
        assert!(exactly.is_finite() && (exactly - nearby).abs() < 1e-3 * nearby);
    }

    #[test]
    fn rejects_bad_horizons_and_histories() {
        let model = cdnow_like();
        let h = CustomerHistory::new(1, 2.0, 3.0);
        assert!(model.conditional_expected_purchases(&h, -1.0).is_err());
        assert!(
            model
                .conditional_expected_purchases(&h, f64::INFINITY)
                .is_err()
        );
        assert!(model.expected_purchases(f64::NAN).is_err());
        let late = CustomerHistory::new(1, 4.0, 3.0);
        assert!(model.probability_alive(&late).is_err());
        assert_eq!(model.conditional_expected_purchases(&h, 0.0).unwrap(), 0.0);
    }
}
