//! The per-customer summary the purchase models work from, and its validation.

use crate::error::{FitError, PredictError};

/// One customer's repeat-purchase history in a chosen time unit (days, weeks, ...), as the
/// BG/NBD model of Fader, Hardie & Lee (2005, section 2) defines it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerHistory {
    /// `x`: purchases after the first one (repeat purchases), usually counted as distinct
    /// time periods with a purchase.
    pub frequency: u32,
    /// `t_x`: time from the first purchase to the last one; 0 when `frequency` is 0.
    pub recency: f64,
    /// `T`: time from the first purchase to the end of observation (the "as of" date).
    pub age: f64,
}

impl CustomerHistory {
    /// A history from its three numbers.
    pub fn new(frequency: u32, recency: f64, age: f64) -> Self {
        Self {
            frequency,
            recency,
            age,
        }
    }

    /// Checks made before fitting: finite, non-negative, last purchase inside the observation
    /// period, and repeat purchases strictly after the first.
    pub(crate) fn check_for_fit(&self, index: usize) -> Result<(), FitError> {
        for (field, value) in [("recency", self.recency), ("age", self.age)] {
            if !value.is_finite() {
                return Err(FitError::NonFinite {
                    index,
                    field,
                    value,
                });
            }
            if value < 0.0 {
                return Err(FitError::Negative {
                    index,
                    field,
                    value,
                });
            }
        }
        if self.recency > self.age {
            return Err(FitError::RecencyAfterAge {
                index,
                recency: self.recency,
                age: self.age,
            });
        }
        if self.frequency > 0 && self.recency == 0.0 {
            return Err(FitError::RepeatWithoutRecency {
                index,
                frequency: self.frequency,
            });
        }
        Ok(())
    }

    /// Checks made before predicting: finite, non-negative, recency within age.
    pub(crate) fn check_for_prediction(&self) -> Result<(), PredictError> {
        for (field, value) in [("recency", self.recency), ("age", self.age)] {
            if !value.is_finite() || value < 0.0 {
                return Err(PredictError::InvalidInput {
                    field,
                    value,
                    reason: "must be a finite, non-negative time",
                });
            }
        }
        if self.recency > self.age {
            return Err(PredictError::InvalidInput {
                field: "recency",
                value: self.recency,
                reason: "must not exceed the customer's age",
            });
        }
        Ok(())
    }
}

/// Validate a dataset for the BG/NBD family: at least `minimum` customers, each valid, some
/// observation time, and at least one repeat buyer. Returns the largest age.
pub(crate) fn check_dataset(
    customers: &[CustomerHistory],
    minimum: usize,
) -> Result<f64, FitError> {
    if customers.is_empty() {
        return Err(FitError::NoCustomers);
    }
    for (index, customer) in customers.iter().enumerate() {
        customer.check_for_fit(index)?;
    }
    if customers.len() < minimum {
        return Err(FitError::TooFewCustomers {
            count: customers.len(),
            minimum,
        });
    }
    let max_age = customers.iter().fold(0.0_f64, |m, c| m.max(c.age));
    if max_age <= 0.0 {
        return Err(FitError::NoObservationTime);
    }
    if customers.iter().all(|c| c.frequency == 0) {
        return Err(FitError::NoRepeatBuyers);
    }
    Ok(max_age)
}
