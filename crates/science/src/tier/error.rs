//! What can be wrong with a tenant's tiers or stored thresholds, and the check of a tier
//! list that both building and reading thresholds apply.

/// Why tier thresholds could not be built or used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TierError {
    /// No tiers were given.
    #[error("no tiers given: at least one tier, the last at percentile 0, is needed")]
    NoTiers,
    /// A tier has an empty name.
    #[error("tier {index} has an empty name")]
    EmptyName {
        /// Position of the tier in the list.
        index: usize,
    },
    /// Two tiers share a name.
    #[error("tier name {name:?} is used twice")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// A tier's percentile is not a number in `[0, 1]`.
    #[error("tier {name:?} has percentile {percentile}; it must be between 0 and 1")]
    PercentileOutOfRange {
        /// The tier.
        name: String,
        /// The percentile supplied.
        percentile: f64,
    },
    /// Tiers are not listed from the highest percentile down, each strictly lower.
    #[error(
        "tier {name:?} has percentile {percentile}, not below the {previous} of the tier before it; list tiers from the highest percentile down"
    )]
    NotDescending {
        /// The tier out of order.
        name: String,
        /// Its percentile.
        percentile: f64,
        /// The percentile of the tier listed before it.
        previous: f64,
    },
    /// The last tier does not start at percentile 0, so some customers would get no tier.
    #[error(
        "the last tier {name:?} starts at percentile {percentile}; it must start at 0 so that every customer gets a tier"
    )]
    LastNotAtZero {
        /// The last tier.
        name: String,
        /// Its percentile.
        percentile: f64,
    },
    /// The population is empty.
    #[error("no values to compute tier cut-offs from")]
    EmptyPopulation,
    /// A value is NaN or infinite.
    #[error("value {index} is {value}, which is not a finite number")]
    NonFiniteValue {
        /// Position of the value (in the population; 0 for a value being assigned).
        index: usize,
        /// The value.
        value: f64,
    },
    /// Stored thresholds do not fit together (cut-offs or percentile table out of order).
    #[error("stored tier thresholds are inconsistent: {reason}")]
    Inconsistent {
        /// What is wrong.
        reason: &'static str,
    },
}

/// Checks that `spec` names tiers from the highest percentile down, each with a name of its
/// own and a percentile in `[0, 1]`, the last at 0.
pub(super) fn check_tiers(spec: &[(&str, f64)]) -> Result<(), TierError> {
    let Some(&(last_name, last_percentile)) = spec.last() else {
        return Err(TierError::NoTiers);
    };
    let mut previous: Option<f64> = None;
    for (index, &(name, percentile)) in spec.iter().enumerate() {
        if name.is_empty() {
            return Err(TierError::EmptyName { index });
        }
        if spec[..index].iter().any(|(n, _)| *n == name) {
            return Err(TierError::DuplicateName {
                name: name.to_owned(),
            });
        }
        if !(0.0..=1.0).contains(&percentile) {
            return Err(TierError::PercentileOutOfRange {
                name: name.to_owned(),
                percentile,
            });
        }
        if let Some(previous) = previous.filter(|&p| percentile >= p) {
            return Err(TierError::NotDescending {
                name: name.to_owned(),
                percentile,
                previous,
            });
        }
        previous = Some(percentile);
    }
    if last_percentile != 0.0 {
        return Err(TierError::LastNotAtZero {
            name: last_name.to_owned(),
            percentile: last_percentile,
        });
    }
    Ok(())
}
