//! Service tiers from where a customer's value (lifetime value, profit) falls in the
//! population: the top 5% platinum, the next 15% gold, and so on, with thresholds the tenant
//! sets.
//!
//! [`TierThresholds`] is computed once from the population and holds plain numbers (the
//! cut-off value of each tier and a percentile table), so a service can store it and assign
//! tiers later without the population at hand.

use std::fmt;

use crate::text::Number;

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

/// One tier: its name, the population percentile it starts at, and the value at that
/// percentile.
#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    /// The tier's name, e.g. "gold".
    pub name: String,
    /// The percentile it starts at, in `[0, 1]` (0.80: the top 20%).
    pub percentile: f64,
    /// The value at that percentile: a customer with at least this value is in this tier or
    /// a higher one.
    pub cutoff: f64,
}

/// A point of the population's distribution: `fraction` of the population is at or below
/// `value` (by linear interpolation between order statistics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    /// Fraction of the population, in `[0, 1]`.
    pub fraction: f64,
    /// The value there.
    pub value: f64,
}

/// Tier cut-offs and a percentile table computed from a population. Plain data: store
/// [`tiers`](Self::tiers) and [`quantiles`](Self::quantiles) and rebuild with
/// [`from_stored`](Self::from_stored).
#[derive(Debug, Clone, PartialEq)]
pub struct TierThresholds {
    tiers: Vec<Tier>,
    quantiles: Vec<Quantile>,
}

/// A customer's tier.
#[derive(Debug, Clone, PartialEq)]
pub struct TierAssignment {
    /// The tier's name.
    pub tier: String,
    /// Where the value falls in the population, in `[0, 1]`.
    pub percentile: f64,
    /// A sentence for people: the value, its percentile and the cut-off that decided.
    pub explanation: String,
}

/// Percentile of sorted data by linear interpolation between order statistics (Hyndman &
/// Fan 1996, definition 7), as RFM breakpoints use.
fn percentile_of_sorted(sorted: &[f64], fraction: f64) -> f64 {
    let position = fraction * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let weight = position - below as f64;
    sorted[below] + weight * (sorted[above] - sorted[below])
}

fn check_tiers(spec: &[(&str, f64)]) -> Result<(), TierError> {
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

/// Steps of the stored percentile table: every whole percent.
const TABLE_STEPS: usize = 100;

impl TierThresholds {
    /// Thresholds from the tenant's tiers, highest first (e.g. `[("platinum", 0.95),
    /// ("gold", 0.80), ("silver", 0.50), ("bronze", 0.0)]`), and the population's values.
    pub fn from_population(tiers: &[(&str, f64)], values: &[f64]) -> Result<Self, TierError> {
        check_tiers(tiers)?;
        if values.is_empty() {
            return Err(TierError::EmptyPopulation);
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(TierError::NonFiniteValue { index, value });
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut fractions: Vec<f64> = (0..=TABLE_STEPS)
            .map(|i| i as f64 / TABLE_STEPS as f64)
            .chain(tiers.iter().map(|&(_, p)| p))
            .collect();
        fractions.sort_by(f64::total_cmp);
        fractions.dedup();
        let quantiles = fractions
            .into_iter()
            .map(|fraction| Quantile {
                fraction,
                value: percentile_of_sorted(&sorted, fraction),
            })
            .collect();
        let tiers = tiers
            .iter()
            .map(|&(name, percentile)| Tier {
                name: name.to_owned(),
                percentile,
                cutoff: percentile_of_sorted(&sorted, percentile),
            })
            .collect();
        Ok(Self { tiers, quantiles })
    }

    /// Thresholds read back from storage, checked as [`from_population`](Self::from_population)
    /// checks the tiers, plus: cut-offs finite and not increasing down the list, and a
    /// percentile table from fraction 0 to 1 with both columns ascending.
    pub fn from_stored(tiers: Vec<Tier>, quantiles: Vec<Quantile>) -> Result<Self, TierError> {
        let spec: Vec<(&str, f64)> = tiers
            .iter()
            .map(|t| (t.name.as_str(), t.percentile))
            .collect();
        check_tiers(&spec)?;
        let inconsistent = |reason| Err(TierError::Inconsistent { reason });
        if tiers.iter().any(|t| !t.cutoff.is_finite()) {
            return inconsistent("a cut-off is not a finite number");
        }
        if tiers.windows(2).any(|w| w[1].cutoff > w[0].cutoff) {
            return inconsistent("a lower tier has a higher cut-off than the tier above it");
        }
        let finite = quantiles
            .iter()
            .all(|q| q.fraction.is_finite() && q.value.is_finite());
        let ascending = quantiles
            .windows(2)
            .all(|w| w[0].fraction < w[1].fraction && w[0].value <= w[1].value);
        let spans = quantiles.first().map(|q| q.fraction) == Some(0.0)
            && quantiles.last().map(|q| q.fraction) == Some(1.0);
        if !(finite && ascending && spans) {
            return inconsistent(
                "the percentile table must run from fraction 0 to 1 with fractions and values ascending",
            );
        }
        Ok(Self { tiers, quantiles })
    }

    /// The tiers, highest first, with their cut-off values.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The percentile table: every whole percent and each tier's percentile.
    pub fn quantiles(&self) -> &[Quantile] {
        &self.quantiles
    }

    /// Where `value` falls in the population, in `[0, 1]`: interpolated in the percentile
    /// table; within a run of equal values, the top of the run (so a value equal to a
    /// tier's cut-off is at least at that tier's percentile).
    pub fn percentile(&self, value: f64) -> f64 {
        let q = &self.quantiles;
        // Last point at or below the value.
        let at_or_below = q.partition_point(|p| p.value <= value);
        if at_or_below == 0 {
            return 0.0;
        }
        if at_or_below == q.len() {
            return 1.0;
        }
        let (lo, hi) = (q[at_or_below - 1], q[at_or_below]);
        let weight = (value - lo.value) / (hi.value - lo.value);
        (lo.fraction + weight * (hi.fraction - lo.fraction)).clamp(0.0, 1.0)
    }

    /// The tier for `value`: the first tier, from the top, whose cut-off it reaches.
    pub fn assign(&self, value: f64) -> Result<TierAssignment, TierError> {
        if !value.is_finite() {
            return Err(TierError::NonFiniteValue { index: 0, value });
        }
        let percentile = self.percentile(value);
        let position = self
            .tiers
            .iter()
            .position(|t| value >= t.cutoff)
            .unwrap_or(self.tiers.len() - 1);
        let tier = &self.tiers[position];
        let mut explanation = format!(
            "value {} is at the {} percentile; {} starts at the {} percentile (value {})",
            Number::money(value),
            Ordinal(percentile),
            tier.name,
            Ordinal(tier.percentile),
            Number::money(tier.cutoff)
        );
        if let Some(above) = position.checked_sub(1).map(|i| &self.tiers[i]) {
            explanation.push_str(&format!(
                " and {} at the {} (value {})",
                above.name,
                Ordinal(above.percentile),
                Number::money(above.cutoff)
            ));
        }
        Ok(TierAssignment {
            tier: tier.name.clone(),
            percentile,
            explanation,
        })
    }
}

/// A fraction as an ordinal percentile: 0.8 as "80th", 0.955 as "95.5th".
struct Ordinal(f64);

impl fmt::Display for Ordinal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = self.0 * 100.0;
        let rounded = (percent * 10.0).round() / 10.0;
        if rounded.fract() != 0.0 {
            return write!(f, "{rounded}th");
        }
        let whole = rounded as i64;
        let suffix = match (whole % 10, whole % 100) {
            (_, 11..=13) => "th",
            (1, _) => "st",
            (2, _) => "nd",
            (3, _) => "rd",
            _ => "th",
        };
        write!(f, "{whole}{suffix}")
    }
}

#[cfg(test)]
mod tests;
