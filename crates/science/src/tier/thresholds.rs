//! Building tier thresholds from a population or from storage, and placing a value in them.

use super::error::check_tiers;
use super::{Quantile, Tier, TierAssignment, TierError, TierThresholds};
use crate::percentile;
use crate::text::{Number, Ordinal};

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
                value: percentile::of_sorted(&sorted, fraction),
            })
            .collect();
        let tiers = tiers
            .iter()
            .map(|&(name, percentile)| Tier {
                name: name.to_owned(),
                percentile,
                cutoff: percentile::of_sorted(&sorted, percentile),
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
