//! Service tiers from where a customer's value (lifetime value, profit) falls in the
//! population: the top 5% platinum, the next 15% gold, and so on, with thresholds the tenant
//! sets.

mod error;
mod thresholds;

pub use error::TierError;

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
///
/// [`TierThresholds`] is computed once from the population and holds plain numbers (the
/// cut-off value of each tier and a percentile table), so a service can store it and assign
/// tiers later without the population at hand.
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

#[cfg(test)]
mod tests;
