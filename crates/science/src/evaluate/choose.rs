//! Choosing the best of several purchase models on the same holdout evidence.

use super::{EvaluateError, Evaluation, HoldoutCustomer, PurchaseModel, evaluate};
use crate::text::Number;

/// The outcome of [`choose_model`].
#[derive(Debug, Clone, PartialEq)]
pub struct ModelChoice<'a> {
    /// Position of the chosen model among the candidates.
    pub best: usize,
    /// Its name.
    pub name: &'a str,
    /// Every candidate's evaluation, in the order given.
    pub evaluations: Vec<(&'a str, Evaluation)>,
    /// Why it was chosen, in a sentence.
    pub reason: String,
}

/// Chi-square statistics within this relative distance count as a tie, which the mean
/// absolute error then breaks.
const CHI_SQUARE_TIE: f64 = 0.01;

/// Evaluate each named candidate on the same customers and holdout and pick the one whose
/// frequency-group totals come closest to the actual ones (lowest chi-square); when the best
/// chi-squares are within 1% of each other, the lower mean absolute error decides.
pub fn choose_model<'a>(
    candidates: &[(&'a str, &'a dyn PurchaseModel)],
    customers: &[HoldoutCustomer],
    holdout_length: f64,
) -> Result<ModelChoice<'a>, EvaluateError> {
    if candidates.is_empty() {
        return Err(EvaluateError::NoModels);
    }
    let mut evaluations = Vec::with_capacity(candidates.len());
    for &(name, model) in candidates {
        evaluations.push((name, evaluate(model, customers, holdout_length)?));
    }
    let mut best = 0;
    let mut by_error = false;
    for (i, (_, e)) in evaluations.iter().enumerate().skip(1) {
        let current = &evaluations[best].1;
        let scale = current.chi_square.max(e.chi_square).max(f64::MIN_POSITIVE);
        let tied = (current.chi_square - e.chi_square).abs() <= CHI_SQUARE_TIE * scale;
        if tied {
            if e.mean_absolute_error < current.mean_absolute_error {
                best = i;
                by_error = true;
            }
        } else if e.chi_square < current.chi_square {
            best = i;
            by_error = false;
        }
    }
    let (name, chosen) = (evaluations[best].0, &evaluations[best].1);
    let others: Vec<String> = evaluations
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != best)
        .map(|(_, (n, e))| {
            format!(
                "{n} {} / {}",
                Number::money(e.chi_square),
                Number::money(e.mean_absolute_error)
            )
        })
        .collect();
    let basis = if by_error {
        "chi-square within 1% of the next best, lower mean absolute error"
    } else {
        "lowest chi-square over the calibration-frequency groups"
    };
    let mut reason = format!(
        "{name}: {basis} (chi-square / mean absolute error {} / {}",
        Number::money(chosen.chi_square),
        Number::money(chosen.mean_absolute_error)
    );
    if others.is_empty() {
        reason.push(')');
    } else {
        reason.push_str(&format!(" against {})", others.join(", ")));
    }
    Ok(ModelChoice {
        best,
        name,
        evaluations,
        reason,
    })
}
