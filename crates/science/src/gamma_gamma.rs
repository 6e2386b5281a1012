//! The Gamma-Gamma model of spend per transaction: Fader, Hardie & Lee (2005), "RFM and CLV:
//! Using Iso-Value Curves for Customer Base Analysis", Journal of Marketing Research 42(4),
//! 415–430, section 4, as set out in Hardie's note 025 ("The Gamma-Gamma Model of Monetary
//! Value", 2013).

use crate::error::{FitError, ParameterError, Toward, check_positive};
use crate::fit::{FitOptions, ModelFit, Sample, estimate_from_ladder, standard_errors};
use crate::parallel::resolve_threads;
use crate::percentile;

mod likelihood;

use likelihood::{SpendData, log_likelihood};

/// One repeat customer's spend summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpendHistory {
    /// `x`: repeat purchases (must be at least 1 to fit).
    pub frequency: u32,
    /// `m̄`: mean value of those repeat purchases, in money units.
    pub mean_value: f64,
}

/// Gamma-Gamma parameters, with `v` in money units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGammaParams {
    /// Shape of the distribution of order values around a customer's mean.
    pub p: f64,
    /// Shape of the distribution of customers' spend rates.
    pub q: f64,
    /// Scale of the distribution of customers' spend rates (money).
    pub v: f64,
}

/// A Gamma-Gamma model with valid parameters and a finite population mean (`q > 1`).
///
/// Each order's value is `Gamma(p, ν)` around a customer-specific rate `ν ~ Gamma(q, v)`;
/// spend is assumed independent of the purchase process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    params: GammaGammaParams,
}

impl GammaGamma {
    /// A model from parameters: each positive and finite, and `q > 1` so that the expected
    /// order value exists.
    pub fn new(params: GammaGammaParams) -> Result<Self, ParameterError> {
        check_positive("p", params.p)?;
        check_positive("q", params.q)?;
        check_positive("v", params.v)?;
        check_positive("q - 1", params.q - 1.0).map_err(|_| ParameterError {
            name: "q",
            value: params.q,
        })?;
        Ok(Self { params })
    }

    /// The parameters.
    pub fn params(&self) -> GammaGammaParams {
        self.params
    }

    /// Mean order value across the population, `E[Z] = p·v / (q-1)`, the mean of the gamma mixture (note 025).
    pub fn population_mean_value(&self) -> f64 {
        let GammaGammaParams { p, q, v } = self.params;
        p * v / (q - 1.0)
    }

    /// Expected value of this customer's future orders given `frequency` repeat purchases
    /// averaging `mean_value`: `(p·v + p·x·m̄) / (p·x + q - 1)`, the weighted mean of the
    /// population mean and the customer's own (note 025, eq. 5). With no repeat purchases it
    /// is the population mean; a non-finite or negative `mean_value` is treated the same
    /// way, since it carries no usable information.
    pub fn conditional_expected_value(&self, frequency: u32, mean_value: f64) -> f64 {
        let GammaGammaParams { p, q, v } = self.params;
        if frequency == 0 || !mean_value.is_finite() || mean_value < 0.0 {
            return self.population_mean_value();
        }
        let px = p * f64::from(frequency);
        (p * v + px * mean_value) / (px + q - 1.0)
    }
}

/// How far apart customers' mean order values lie, as the larger of the 95th percentile
/// over the median and the median over the 5th percentile, beyond which a fit that fails
/// is put down to a mixed population rather than to the parameter that ran off.
const MIXED_SPREAD: f64 = 8.0;

/// `error` with a reason read from the data when they explain it better than the
/// direction a parameter ran off in: a mix of a few large accounts among many small
/// buyers can send any of the three parameters off, in either direction.
fn diagnosed(error: FitError, customers: &[SpendHistory]) -> FitError {
    let FitError::Unidentifiable {
        parameter, toward, ..
    } = error
    else {
        return error;
    };
    let mut means: Vec<f64> = customers.iter().map(|c| c.mean_value).collect();
    means.sort_by(f64::total_cmp);
    let (low, median, high) = (
        percentile::of_sorted(&means, 0.05),
        percentile::of_sorted(&means, 0.5),
        percentile::of_sorted(&means, 0.95),
    );
    if (high / median).max(median / low) < MIXED_SPREAD {
        return error;
    }
    FitError::Unidentifiable {
        parameter,
        toward,
        hint: "customers' average order values differ too widely for one gamma distribution (the top twentieth or the bottom twentieth lie more than eight times from the median), as when a few accounts order many times more than most customers",
    }
}

/// A fitted Gamma-Gamma model and how the fit went; its log-likelihood is that of the mean
/// order values, in the data's money unit.
pub type GammaGammaFit = ModelFit<GammaGamma, GammaGammaParams>;

const MINIMUM_CUSTOMERS: usize = 2;
const NAMES: [&str; 3] = ["p", "q", "v"];

/// Why a parameter ran off. `ν ~ Gamma(q, v)`: `q` towards infinity (or `v` with it)
/// concentrates every customer's mean on one value; `v` or `q` towards zero spreads the
/// means over orders of magnitude, as a mix of a few large accounts and many small buyers
/// does, which no single gamma distribution describes.
fn hint(parameter: usize, toward: Toward) -> &'static str {
    match (parameter, toward) {
        (0, _) => {
            "order values within a customer barely vary, or vary too wildly, for their spread to be estimated"
        }
        (_, Toward::Infinity) => {
            "customers' average order values barely differ (or all are equal), so their spread cannot be estimated"
        }
        (_, Toward::Zero) => {
            "customers' average order values differ too widely for one gamma distribution, as when a few accounts order many times more than most customers"
        }
    }
}

impl Sample for SpendData {
    fn rows(&self) -> usize {
        self.len()
    }

    fn customers(&self) -> f64 {
        self.len() as f64
    }

    fn subsample(&self, stride: usize) -> Self {
        SpendData::subsample(self, stride)
    }
}

/// Fit the Gamma-Gamma model by maximum likelihood on repeat customers.
///
/// Order values are divided by their mean before fitting and `v` is scaled back, so the
/// currency unit does not matter. Same optimiser as [`crate::fit_bg_nbd`]. Errors for no or
/// one customer, a customer without repeat purchases, non-positive or non-finite values,
/// an unidentified parameter, or a fitted `q <= 1` (infinite mean order value).
pub fn fit_gamma_gamma(
    customers: &[SpendHistory],
    options: &FitOptions,
) -> Result<GammaGammaFit, FitError> {
    if customers.is_empty() {
        return Err(FitError::NoCustomers);
    }
    for (index, c) in customers.iter().enumerate() {
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
        if c.frequency == 0 {
            return Err(FitError::NotRepeatCustomer { index });
        }
    }
    if customers.len() < MINIMUM_CUSTOMERS {
        return Err(FitError::TooFewCustomers {
            count: customers.len(),
            minimum: MINIMUM_CUSTOMERS,
        });
    }
    let n = customers.len() as f64;
    let scale = customers.iter().map(|c| c.mean_value).sum::<f64>() / n;
    let scaled = SpendData::new(customers, resolve_threads(options.threads)).scaled(scale);
    let found = estimate_from_ladder(&scaled, log_likelihood, options, NAMES, hint)
        .map_err(|e| diagnosed(e, customers))?;
    let [p, q, v_scaled] = found.log_params.map(f64::exp);
    let params = GammaGammaParams {
        p,
        q,
        v: v_scaled * scale,
    };
    if q <= 1.0 {
        return Err(FitError::InfiniteMeanSpend { q });
    }
    let model = GammaGamma::new(params).map_err(|_| FitError::NonFiniteLikelihood)?;
    // Values divided by `scale` have densities `scale` times larger, so the log-likelihood
    // in the data's own money unit follows without another pass.
    let ll = -found.value * n - n * scale.ln();
    if !ll.is_finite() {
        return Err(FitError::NonFiniteLikelihood);
    }
    let errors = standard_errors(
        [params.p, params.q, params.v],
        found.inverse_hessian_diagonal,
        customers.len(),
    );
    Ok(GammaGammaFit {
        model,
        log_likelihood: ll,
        iterations: found.iterations,
        converged: found.converged,
        standard_errors: errors.map(|[p, q, v]| GammaGammaParams { p, q, v }),
        customers: customers.len(),
    })
}

#[cfg(test)]
mod tests;
