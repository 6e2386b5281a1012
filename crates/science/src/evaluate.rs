//! Calibration/holdout checking of purchase models.
//!
//! Fit a model on a calibration period, predict each customer's purchases in the holdout
//! period that follows, and compare with what they did, overall and by how often they had
//! bought in calibration (the check Fader, Hardie & Lee 2005 show in their figure 3). Any
//! model behind [`PurchaseModel`] can be checked, and [`choose_model`] picks the best of
//! several on the same evidence.

use crate::bgnbd::BgNbd;
use crate::error::PredictError;
use crate::history::CustomerHistory;
use crate::mbgnbd::MbgNbd;
use crate::pareto_nbd::ParetoNbd;
use crate::text::Number;

/// A purchase model that predicts a customer's repeat purchases over a coming period.
pub trait PurchaseModel {
    /// Expected repeat purchases in the next `t` time units for a customer with `history`
    /// (same time unit as the history).
    fn conditional_expected_purchases(
        &self,
        history: &CustomerHistory,
        t: f64,
    ) -> Result<f64, PredictError>;
}

/// The crate's purchase models, each through its own method of the same name.
macro_rules! purchase_models {
    ($($model:ty),*) => {$(
        impl PurchaseModel for $model {
            fn conditional_expected_purchases(
                &self,
                history: &CustomerHistory,
                t: f64,
            ) -> Result<f64, PredictError> {
                <$model>::conditional_expected_purchases(self, history, t)
            }
        }
    )*};
}

purchase_models!(BgNbd, MbgNbd, ParetoNbd);

/// Why an evaluation could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluateError {
    /// No customers to evaluate on.
    #[error("no customers to evaluate on")]
    NoCustomers,
    /// No candidate models to choose from.
    #[error("no models to choose from")]
    NoModels,
    /// The holdout length is not a positive finite time.
    #[error("holdout length {0} must be a positive, finite time")]
    InvalidHoldoutLength(f64),
    /// The model could not predict for a customer.
    #[error("customer {index}: {source}")]
    Prediction {
        /// Position of the customer in the input.
        index: usize,
        /// Why.
        source: PredictError,
    },
}

/// One customer's calibration history and holdout purchases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoldoutCustomer {
    /// Frequency, recency and age at the end of calibration.
    pub calibration: CustomerHistory,
    /// Purchases made in the holdout period.
    pub holdout_purchases: u32,
}

/// Predicted against actual holdout purchases for a group of customers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupComparison {
    /// Calibration frequency of the group (the lowest, for the open-ended last group).
    pub calibration_frequency: u32,
    /// Whether the group also holds every higher frequency ("7+").
    pub and_more: bool,
    /// Customers in the group.
    pub customers: usize,
    /// Sum of predicted holdout purchases.
    pub predicted: f64,
    /// Sum of actual holdout purchases.
    pub actual: f64,
}

impl GroupComparison {
    /// Mean predicted purchases per customer (0 for an empty group).
    pub fn predicted_mean(&self) -> f64 {
        per_customer(self.predicted, self.customers)
    }

    /// Mean actual purchases per customer (0 for an empty group).
    pub fn actual_mean(&self) -> f64 {
        per_customer(self.actual, self.customers)
    }
}

fn per_customer(total: f64, customers: usize) -> f64 {
    if customers == 0 {
        0.0
    } else {
        total / customers as f64
    }
}

/// Frequency groups 0, 1, …, 6 and 7+.
pub const FREQUENCY_GROUPS: usize = 8;

/// How a model's holdout predictions compare with what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// All customers together.
    pub overall: GroupComparison,
    /// By calibration frequency 0, 1, …, 6 and 7+ (all eight, empty ones included).
    pub groups: [GroupComparison; FREQUENCY_GROUPS],
    /// Mean over customers of |predicted − actual| holdout purchases.
    pub mean_absolute_error: f64,
    /// `Σ (actual − predicted)² / predicted` over the frequency groups' totals: how far the
    /// predictions are from the actual totals, group by group, in Pearson's chi-square form
    /// (a predicted total below 1e-9 counts as 1e-9, so a model that predicts nothing where
    /// purchases happened scores badly rather than not at all).
    pub chi_square: f64,
}

/// Smallest predicted total a group's chi-square term divides by.
const MIN_PREDICTED: f64 = 1e-9;

/// Compare `model`'s predictions over `holdout_length` with the customers' holdout
/// purchases.
pub fn evaluate<M: PurchaseModel + ?Sized>(
    model: &M,
    customers: &[HoldoutCustomer],
    holdout_length: f64,
) -> Result<Evaluation, EvaluateError> {
    if !(holdout_length.is_finite() && holdout_length > 0.0) {
        return Err(EvaluateError::InvalidHoldoutLength(holdout_length));
    }
    if customers.is_empty() {
        return Err(EvaluateError::NoCustomers);
    }
    let empty = |calibration_frequency: u32| GroupComparison {
        calibration_frequency,
        and_more: calibration_frequency as usize == FREQUENCY_GROUPS - 1,
        customers: 0,
        predicted: 0.0,
        actual: 0.0,
    };
    let mut groups: [GroupComparison; FREQUENCY_GROUPS] = std::array::from_fn(|i| empty(i as u32));
    let mut overall = GroupComparison {
        and_more: true,
        ..empty(0)
    };
    let mut absolute_error = 0.0;
    for (index, customer) in customers.iter().enumerate() {
        let predicted = model
            .conditional_expected_purchases(&customer.calibration, holdout_length)
            .map_err(|source| EvaluateError::Prediction { index, source })?;
        if !predicted.is_finite() || predicted < 0.0 {
            return Err(EvaluateError::Prediction {
                index,
                source: PredictError::InvalidInput {
                    field: "prediction",
                    value: predicted,
                    reason: "the model predicted a negative or non-finite number of purchases",
                },
            });
        }
        let actual = f64::from(customer.holdout_purchases);
        let slot = (customer.calibration.frequency as usize).min(FREQUENCY_GROUPS - 1);
        for group in [&mut groups[slot], &mut overall] {
            group.customers += 1;
            group.predicted += predicted;
            group.actual += actual;
        }
        absolute_error += (predicted - actual).abs();
    }
    let chi_square = groups
        .iter()
        .filter(|g| g.customers > 0)
        .map(|g| (g.actual - g.predicted).powi(2) / g.predicted.max(MIN_PREDICTED))
        .sum();
    Ok(Evaluation {
        overall,
        groups,
        mean_absolute_error: absolute_error / customers.len() as f64,
        chi_square,
    })
}

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

#[cfg(test)]
mod tests;
