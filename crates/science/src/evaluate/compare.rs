//! One model's holdout predictions against what customers did, overall and by how often
//! they had bought in calibration.

use super::{EvaluateError, HoldoutCustomer, PurchaseModel};
use crate::error::PredictError;

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
