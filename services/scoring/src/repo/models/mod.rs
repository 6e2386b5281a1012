//! What the customer-value models keep per tenant: settings, fits, population
//! figures and the background refresh's schedule, plus the scan of
//! `customer_days` that fits are made from.

mod days;
mod fits;
mod population;
mod refresh;
mod settings;
mod spend_fallback;

use rapport_kit::Db;

pub use days::DayRow;
pub use fits::{FitRow, Parameter, StoredFit};
pub use population::{PopulationRow, StoredTiers, TierCutoff};
pub use refresh::{RefreshOutcome, RefreshStatusRow};
pub use settings::StoredSettings;
pub use spend_fallback::{SpendFallback, SpendUnfitted};

/// The models' repository.
#[derive(Debug, Clone)]
pub struct ModelRepo {
    db: Db,
}

impl ModelRepo {
    /// Wraps the service's pool.
    pub fn new(db: Db) -> Self {
        ModelRepo { db }
    }
}
