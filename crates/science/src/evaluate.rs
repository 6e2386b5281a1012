//! Calibration/holdout checking of purchase models: each customer's predicted holdout
//! purchases against what they did, overall and by calibration frequency (Fader, Hardie &
//! Lee 2005, figure 3), for any [`PurchaseModel`]; [`choose_model`] picks the best of several.

mod choose;
mod compare;

pub use choose::{ModelChoice, choose_model};
pub use compare::{Evaluation, FREQUENCY_GROUPS, GroupComparison, evaluate};

use crate::bgnbd::BgNbd;
use crate::error::PredictError;
use crate::history::CustomerHistory;
use crate::mbgnbd::MbgNbd;
use crate::pareto_nbd::ParetoNbd;

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

#[cfg(test)]
mod tests;
