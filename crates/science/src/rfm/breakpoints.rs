//! Quintile breakpoints of each RFM measure over a population, the yardstick scores are
//! read against.

use super::{RfmError, RfmValues};
use crate::percentile;

/// Quintile boundaries (20th, 40th, 60th and 80th percentiles) of each measure over a
/// population. Computed once from the customer base and stored, so scores stay comparable
/// until the service chooses to refresh them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breakpoints {
    recency: [f64; 4],
    frequency: [f64; 4],
    monetary: [f64; 4],
}

fn quintile_breakpoints(mut values: Vec<f64>) -> [f64; 4] {
    values.sort_by(f64::total_cmp);
    [0.2, 0.4, 0.6, 0.8].map(|f| percentile::of_sorted(&values, f))
}

fn check_order(measure: &'static str, breakpoints: [f64; 4]) -> Result<[f64; 4], RfmError> {
    let finite = breakpoints.iter().all(|b| b.is_finite());
    let ordered = breakpoints.windows(2).all(|w| w[0] <= w[1]);
    if finite && ordered {
        Ok(breakpoints)
    } else {
        Err(RfmError::UnorderedBreakpoints {
            measure,
            breakpoints,
        })
    }
}

impl Breakpoints {
    /// Breakpoints from stored values (ascending, finite), e.g. read back from a database.
    pub fn new(
        recency: [f64; 4],
        frequency: [f64; 4],
        monetary: [f64; 4],
    ) -> Result<Self, RfmError> {
        Ok(Self {
            recency: check_order("recency", recency)?,
            frequency: check_order("frequency", frequency)?,
            monetary: check_order("monetary", monetary)?,
        })
    }

    /// Quintile breakpoints of a population.
    pub fn from_population(population: &[RfmValues]) -> Result<Self, RfmError> {
        if population.is_empty() {
            return Err(RfmError::EmptyPopulation);
        }
        for v in population {
            v.check()?;
        }
        Ok(Self {
            recency: quintile_breakpoints(population.iter().map(|v| v.recency_days).collect()),
            frequency: quintile_breakpoints(
                population.iter().map(|v| f64::from(v.frequency)).collect(),
            ),
            monetary: quintile_breakpoints(population.iter().map(|v| v.monetary).collect()),
        })
    }

    /// Recency breakpoints in days, ascending.
    pub fn recency(&self) -> [f64; 4] {
        self.recency
    }

    /// Frequency breakpoints, ascending.
    pub fn frequency(&self) -> [f64; 4] {
        self.frequency
    }

    /// Monetary breakpoints, ascending.
    pub fn monetary(&self) -> [f64; 4] {
        self.monetary
    }
}
