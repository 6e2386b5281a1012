//! The Gamma-Gamma model of spend per transaction: Fader, Hardie & Lee (2005), "RFM and CLV:
//! Using Iso-Value Curves for Customer Base Analysis", Journal of Marketing Research 42(4),
//! 415–430, section 4, as set out in Hardie's note 025 ("The Gamma-Gamma Model of Monetary
//! Value", 2013).
//!
//! Each order's value is `Gamma(p, ν)` around a customer-specific rate `ν ~ Gamma(q, v)`;
//! spend is assumed independent of the purchase process.

use crate::error::{FitError, ParameterError, Toward, check_positive};
use crate::fit::{FitOptions, estimate, standard_errors};
use crate::special::{digamma, ln_gamma};

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

/// A fitted Gamma-Gamma model and how the fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct GammaGammaFit {
    /// The model at the maximum-likelihood estimate.
    pub model: GammaGamma,
    /// Log-likelihood of the mean order values at the estimate, in the data's money unit.
    pub log_likelihood: f64,
    /// Quasi-Newton iterations used.
    pub iterations: usize,
    /// Whether the gradient fell below the tolerance within the iteration budget.
    pub converged: bool,
    /// Asymptotic standard errors; `None` if the Hessian is not positive definite.
    pub standard_errors: Option<GammaGammaParams>,
    /// Customers fitted.
    pub customers: usize,
}

const MINIMUM_CUSTOMERS: usize = 2;
const NAMES: [&str; 3] = ["p", "q", "v"];

fn hint(parameter: usize, _toward: Toward) -> &'static str {
    match parameter {
        0 => {
            "order values within a customer barely vary, or vary too wildly, for their spread to be estimated"
        }
        _ => {
            "customers' average order values barely differ (or all are equal), so their spread cannot be estimated"
        }
    }
}

/// Customers grouped by frequency, since the gamma-function terms depend on it alone.
struct SpendGroup {
    x: f64,
    ln_x: f64,
    /// `(m̄, ln m̄)` per customer.
    members: Vec<(f64, f64)>,
}

fn group(customers: &[SpendHistory], scale: f64) -> Vec<SpendGroup> {
    let mut sorted: Vec<&SpendHistory> = customers.iter().collect();
    sorted.sort_by_key(|c| c.frequency);
    let mut groups: Vec<SpendGroup> = Vec::new();
    for c in sorted {
        let x = f64::from(c.frequency);
        let m = c.mean_value / scale;
        match groups.last_mut() {
            Some(g) if g.x == x => g.members.push((m, m.ln())),
            _ => groups.push(SpendGroup {
                x,
                ln_x: x.ln(),
                members: vec![(m, m.ln())],
            }),
        }
    }
    groups
}

/// Log-likelihood of the observed mean order values and its gradient in `[p, q, v]`.
///
/// Per customer (note 025, eq. 1a, the density of `m̄` given `x`):
/// `lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q·ln v + (px-1)·ln m̄ + px·ln x - (px+q)·ln(x·m̄ + v)`.
fn log_likelihood(params: &[f64; 3], groups: &[SpendGroup]) -> (f64, [f64; 3]) {
    let [p, q, v] = *params;
    let (lg_q, psi_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
    let mut total = 0.0;
    let mut d = [0.0; 3];
    for g in groups {
        let (x, px) = (g.x, p * g.x);
        let pxq = px + q;
        let count = g.members.len() as f64;
        let psi_pxq = digamma(pxq);
        total += count * (ln_gamma(pxq) - ln_gamma(px) - lg_q + q * ln_v + px * g.ln_x);
        d[0] += count * x * (psi_pxq - digamma(px) + g.ln_x);
        d[1] += count * (psi_pxq - psi_q + ln_v);
        d[2] += count * q / v;
        for &(m, ln_m) in &g.members {
            let sum = x * m + v;
            let ln_sum = sum.ln();
            total += (px - 1.0) * ln_m - pxq * ln_sum;
            d[0] += x * (ln_m - ln_sum);
            d[1] -= ln_sum;
            d[2] -= pxq / sum;
        }
    }
    (total, d)
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
    let scaled = group(customers, scale);
    let objective = |log_params: &[f64; 3], gradient: &mut [f64; 3]| {
        let params = log_params.map(f64::exp);
        let (ll, d) = log_likelihood(&params, &scaled);
        for i in 0..3 {
            gradient[i] = -d[i] * params[i] / n;
        }
        -ll / n
    };
    let found = estimate(objective, [0.0; 3], options, NAMES, hint)?;
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
    let unscaled = group(customers, 1.0);
    let (ll, _) = log_likelihood(&[params.p, params.q, params.v], &unscaled);
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
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let customers =
            [(1, 20.0), (3, 35.5), (7, 12.25), (3, 80.0)].map(|(frequency, mean_value)| {
                SpendHistory {
                    frequency,
                    mean_value,
                }
            });
        let data = group(&customers, 1.0);
        let params = [4.0, 3.0, 25.0];
        let (_, gradient) = log_likelihood(&params, &data);
        for i in 0..3 {
            let h = 1e-6 * params[i];
            let (mut up, mut down) = (params, params);
            up[i] += h;
            down[i] -= h;
            let numeric =
                (log_likelihood(&up, &data).0 - log_likelihood(&down, &data).0) / (2.0 * h);
            assert!(
                (gradient[i] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
                "parameter {i}"
            );
        }
    }

    #[test]
    fn likelihood_matches_the_gamma_gamma_density_written_out() {
        // m̄ given x is Gamma(px, rate νx) with ν ~ Gamma(q, rate v); integrate ν out by hand.
        let (p, q, v) = (4.0_f64, 3.0_f64, 25.0_f64);
        let (x, m) = (3.0_f64, 35.5_f64);
        let ln_beta = |a: f64, b: f64| ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
        let expected = -ln_beta(p * x, q) + q * v.ln() + (p * x - 1.0) * m.ln() + p * x * x.ln()
            - (p * x + q) * (x * m + v).ln();
        let data = group(
            &[SpendHistory {
                frequency: 3,
                mean_value: m,
            }],
            1.0,
        );
        let (got, _) = log_likelihood(&[p, q, v], &data);
        assert!(
            (got - expected).abs() < 1e-12 * expected.abs(),
            "{got} vs {expected}"
        );
    }

    #[test]
    fn conditional_value_shrinks_towards_the_population_mean() {
        let model = GammaGamma::new(GammaGammaParams {
            p: 6.0,
            q: 4.0,
            v: 15.0,
        })
        .unwrap();
        let mean = model.population_mean_value();
        assert!((mean - 30.0).abs() < 1e-12);
        assert_eq!(model.conditional_expected_value(0, 0.0), mean);
        let one = model.conditional_expected_value(1, 100.0);
        let many = model.conditional_expected_value(50, 100.0);
        assert!(mean < one && one < many && many < 100.0, "{one} {many}");
    }

    #[test]
    fn rejects_parameters_without_a_finite_mean() {
        let err = GammaGamma::new(GammaGammaParams {
            p: 6.0,
            q: 0.8,
            v: 15.0,
        })
        .unwrap_err();
        assert_eq!(err.name, "q");
    }
}
