//! Fitting the models by maximum likelihood: each purchase model and the
//! spend model to a tenant's histories, as stored fit rows.

use rapport_science::{CustomerHistory, FitError, FitOptions, RepeatSpend, SpendHistory};

use super::{
    histories::FitData,
    models::{GAMMA_GAMMA, PurchaseKind},
};
use crate::{
    error::Error,
    repo::models::{FitRow, Parameter, SpendFallback, SpendUnfitted},
};

/// Most customers the Pareto/NBD model is fitted to. Its likelihood needs,
/// per distinct history, two Gauss hypergeometric functions near `z = 1`, so
/// its fit costs hundreds of times BG/NBD's (`cargo bench -p
/// rapport-science --bench pareto`): on 50,000 customers shaped like
/// `rapport bench`'s tenants, 38 s with the continued fraction, where the
/// power series used before ran past 600 s and, unthinned, past FitModels'
/// 15 minutes on a 500,000-customer tenant. A uniform sub-sample of this many
/// (every k-th customer of the fit's sample) bounds that work whatever the
/// tenant's size. Its standard errors, which the fit reports, come out wider
/// than on the whole sample (about three times at 500,000), and the fit
/// row's `customers` says how many it saw.
pub const PARETO_NBD_LIMIT: usize = 50_000;

/// Every k-th history, so at most `limit` remain, spread evenly over the
/// sample (which is in customer id order or hash order: uniform either way).
fn thinned(histories: &[CustomerHistory], limit: usize) -> std::borrow::Cow<'_, [CustomerHistory]> {
    if histories.len() <= limit {
        return std::borrow::Cow::Borrowed(histories);
    }
    let step = histories.len().div_ceil(limit);
    std::borrow::Cow::Owned(histories.iter().step_by(step).cloned().collect())
}

/// Fits every purchase model and the spend model to `data`; the selected
/// purchase model is `preferred` when it fitted, else the first that did.
/// Errors with the reason when no purchase model fits. A spend model that
/// cannot be fitted, or whose fit did not converge, is left out: the second
/// value then says why, with the figures of the credibility-shrunk mean
/// scores use instead (and say so in their explanation).
pub fn fit_all(
    data: &FitData,
    preferred: Option<PurchaseKind>,
) -> Result<(Vec<FitRow>, Option<SpendUnfitted>), Error> {
    let options = FitOptions::default();
    let mut rows = Vec::new();
    let mut first_error = None;
    for kind in PurchaseKind::ALL {
        match fit_purchase(kind, &data.histories, &options) {
            Ok(row) => rows.push(row),
            Err(e) => {
                first_error.get_or_insert(format!("{} cannot be fitted: {e}", kind.label()));
            }
        }
    }
    if rows.is_empty() {
        return Err(Error::Unfittable(first_error.unwrap_or_default()));
    }
    let selected = preferred
        .and_then(|p| rows.iter().position(|r| r.model == p.as_str()))
        .unwrap_or(0);
    rows[selected].selected = true;
    let spend = match fit_spend(&data.spend, &options) {
        Ok(spend) if spend.converged => {
            rows.push(spend);
            return Ok((rows, None));
        }
        Ok(spend) => not_converged(&spend),
        Err(e) => format!("Gamma-Gamma cannot be fitted: {e}"),
    };
    let unfitted = spend_fallback(spend, &data.repeat_spend);
    tracing::warn!(
        reason = %unfitted.reason,
        shrunk = unfitted.fallback.is_some(),
        "gamma-gamma spend model not fitted; averages shrunk toward the population's used"
    );
    Ok((rows, Some(unfitted)))
}

/// Why a spend fit that stopped before converging is not used: such a fit
/// has typically run off (one parameter huge, another near zero), and its
/// predictions mean nothing.
fn not_converged(spend: &FitRow) -> String {
    let at: Vec<String> = spend
        .parameters
        .iter()
        .map(|p| format!("{}={:.4}", p.name, p.value))
        .collect();
    format!(
        "Gamma-Gamma did not converge in {} iterations (it stopped at {}): its parameters run off, so its predictions would mean nothing",
        spend.iterations,
        at.join(", ")
    )
}

/// The shrunk mean's figures for a fit whose spend model failed for `reason`.
pub fn spend_fallback(reason: String, repeat_spend: &[RepeatSpend]) -> SpendUnfitted {
    let fallback = rapport_science::estimate_credibility(repeat_spend)
        .ok()
        .map(|c| SpendFallback {
            population_mean: c.shrunk.population_mean,
            k: c.shrunk.k,
            customers: c.customers as i64,
            k_note: c.k_note.map(str::to_owned),
        });
    SpendUnfitted { reason, fallback }
}

/// The stored row of a science fit result: `$fit` (a `Result` of a fit)
/// with its parameters, in this order, named as the science names them.
macro_rules! fit_row {
    ($model:expr, $fit:expr, [$($p:ident),+]) => {{
        let f = $fit?;
        let p = f.model.params();
        FitRow {
            model: $model.to_owned(),
            parameters: vec![$(Parameter {
                name: stringify!($p).to_owned(),
                value: p.$p,
            }),+],
            standard_errors: f.standard_errors.map(|e| vec![$(e.$p),+]),
            log_likelihood: f.log_likelihood,
            iterations: f.iterations as i64,
            converged: f.converged,
            customers: f.customers as i64,
            selected: false,
        }
    }};
}

/// Fits one purchase model by maximum likelihood.
pub fn fit_purchase(
    kind: PurchaseKind,
    histories: &[CustomerHistory],
    options: &FitOptions,
) -> Result<FitRow, FitError> {
    use rapport_science::{fit_bg_nbd, fit_mbg_nbd, fit_pareto_nbd};
    let model = kind.as_str();
    let histories = match kind {
        PurchaseKind::ParetoNbd => thinned(histories, PARETO_NBD_LIMIT),
        _ => std::borrow::Cow::Borrowed(histories),
    };
    let histories = histories.as_ref();
    Ok(match kind {
        PurchaseKind::BgNbd => fit_row!(model, fit_bg_nbd(histories, options), [r, alpha, a, b]),
        PurchaseKind::MbgNbd => fit_row!(model, fit_mbg_nbd(histories, options), [r, alpha, a, b]),
        PurchaseKind::ParetoNbd => {
            fit_row!(
                model,
                fit_pareto_nbd(histories, options),
                [r, alpha, s, beta]
            )
        }
    })
}

/// Fits the spend model on repeat customers.
pub fn fit_spend(spend: &[SpendHistory], options: &FitOptions) -> Result<FitRow, FitError> {
    let fit = rapport_science::fit_gamma_gamma(spend, options);
    Ok(fit_row!(GAMMA_GAMMA, fit, [p, q, v]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_at_most_the_limit_spread_over_the_whole_sample() {
        let histories: Vec<CustomerHistory> = (0..1_234)
            .map(|i| CustomerHistory::new(i % 7, 0.0, 1_000.0 + f64::from(i)))
            .collect();
        assert_eq!(thinned(&histories, 2_000).len(), 1_234);
        let kept = thinned(&histories, 100);
        assert!(kept.len() <= 100 && kept.len() >= 95, "{}", kept.len());
        // From the first customer to the last stretch, not a prefix.
        assert_eq!(kept[0], histories[0]);
        assert!(kept.last().unwrap().age > 2_150.0);
    }

    #[test]
    fn a_spend_fit_that_ran_off_is_replaced_by_the_shrunk_mean_with_why() {
        let stopped = FitRow {
            model: GAMMA_GAMMA.to_owned(),
            parameters: ["p", "q", "v"]
                .iter()
                .zip([34_604_748.5, 1.3, 0.0])
                .map(|(name, value)| Parameter {
                    name: (*name).to_owned(),
                    value,
                })
                .collect(),
            standard_errors: None,
            log_likelihood: -1.0,
            iterations: 300,
            converged: false,
            customers: 2,
            selected: false,
        };
        let reason = not_converged(&stopped);
        assert!(
            reason.starts_with("Gamma-Gamma did not converge in 300 iterations"),
            "{reason}"
        );
        assert!(reason.contains("p=34604748.5000, q=1.3000"), "{reason}");
        // Two customers, orders 10 and 20, and 30 and 50: m̄ = 110 / 4 = 27.5,
        // s² = (50 + 200) / 2 = 125, Σ n(m − m̄)² = 2·12.5² + 2·12.5² = 625,
        // a = (625 − 125) / (4 − 8/4) = 250, k = 125 / 250 = 0.5.
        let spend = |frequency, mean_value, squared_deviations| RepeatSpend {
            frequency,
            mean_value,
            squared_deviations,
        };
        let u = spend_fallback(
            reason.clone(),
            &[spend(2, 15.0, 50.0), spend(2, 40.0, 200.0)],
        );
        assert_eq!(u.reason, reason);
        let f = u.fallback.unwrap();
        assert_eq!((f.population_mean, f.k, f.customers), (27.5, 0.5, 2));
        assert_eq!(f.k_note, None);
        // Nobody to estimate it from: the reason alone.
        assert_eq!(spend_fallback("none".into(), &[]).fallback, None);
    }
}
