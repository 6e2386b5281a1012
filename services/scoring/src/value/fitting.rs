//! Fitting the models by maximum likelihood: each purchase model and the
//! spend model to a tenant's histories, as stored fit rows.

use rapport_science::{CustomerHistory, FitError, FitOptions, SpendHistory};

use super::{
    histories::FitData,
    models::{GAMMA_GAMMA, PurchaseKind},
};
use crate::{
    error::Error,
    repo::models::{FitRow, Parameter},
};

/// Fits every purchase model and the spend model to `data`; the selected
/// purchase model is `preferred` when it fitted, else the first that did.
/// Errors with the reason when no purchase model fits. A spend model that
/// cannot be fitted is left out (logged); scores then use each customer's own
/// average order value, and say so in their explanation.
pub fn fit_all(data: &FitData, preferred: Option<PurchaseKind>) -> Result<Vec<FitRow>, Error> {
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
    match fit_spend(&data.spend, &options) {
        Ok(spend) => rows.push(spend),
        Err(e) => {
            tracing::warn!(reason = %e, "gamma-gamma spend model not fitted; own averages used")
        }
    }
    Ok(rows)
}

fn row(
    model: &str,
    names: &[&str],
    values: &[f64],
    errors: Option<Vec<f64>>,
    stats: (f64, usize, bool, usize),
) -> FitRow {
    FitRow {
        model: model.to_owned(),
        parameters: names
            .iter()
            .zip(values)
            .map(|(n, v)| Parameter {
                name: (*n).to_owned(),
                value: *v,
            })
            .collect(),
        standard_errors: errors,
        log_likelihood: stats.0,
        iterations: stats.1 as i64,
        converged: stats.2,
        customers: stats.3 as i64,
        selected: false,
    }
}

/// Fits one purchase model by maximum likelihood.
pub fn fit_purchase(
    kind: PurchaseKind,
    histories: &[CustomerHistory],
    options: &FitOptions,
) -> Result<FitRow, FitError> {
    Ok(match kind {
        PurchaseKind::BgNbd => {
            let f = rapport_science::fit_bg_nbd(histories, options)?;
            let p = f.model.params();
            let se = f.standard_errors.map(|e| vec![e.r, e.alpha, e.a, e.b]);
            let stats = (f.log_likelihood, f.iterations, f.converged, f.customers);
            row(
                kind.as_str(),
                &["r", "alpha", "a", "b"],
                &[p.r, p.alpha, p.a, p.b],
                se,
                stats,
            )
        }
        PurchaseKind::MbgNbd => {
            let f = rapport_science::fit_mbg_nbd(histories, options)?;
            let p = f.model.params();
            let se = f.standard_errors.map(|e| vec![e.r, e.alpha, e.a, e.b]);
            let stats = (f.log_likelihood, f.iterations, f.converged, f.customers);
            row(
                kind.as_str(),
                &["r", "alpha", "a", "b"],
                &[p.r, p.alpha, p.a, p.b],
                se,
                stats,
            )
        }
        PurchaseKind::ParetoNbd => {
            let f = rapport_science::fit_pareto_nbd(histories, options)?;
            let p = f.model.params();
            let se = f.standard_errors.map(|e| vec![e.r, e.alpha, e.s, e.beta]);
            let stats = (f.log_likelihood, f.iterations, f.converged, f.customers);
            let names = ["r", "alpha", "s", "beta"];
            row(
                kind.as_str(),
                &names,
                &[p.r, p.alpha, p.s, p.beta],
                se,
                stats,
            )
        }
    })
}

/// Fits the spend model on repeat customers.
pub fn fit_spend(spend: &[SpendHistory], options: &FitOptions) -> Result<FitRow, FitError> {
    let f = rapport_science::fit_gamma_gamma(spend, options)?;
    let p = f.model.params();
    let se = f.standard_errors.map(|e| vec![e.p, e.q, e.v]);
    let stats = (f.log_likelihood, f.iterations, f.converged, f.customers);
    Ok(row(
        GAMMA_GAMMA,
        &["p", "q", "v"],
        &[p.p, p.q, p.v],
        se,
        stats,
    ))
}
