//! What every scenario is handed: the suite under measurement, the loaded
//! customers and the settings.

use std::sync::Arc;

use super::{settings::Settings, target::Target};

/// What every scenario runs with: the started suite, the customers of the loaded
/// population and the settings.
pub struct Run<'a> {
    /// The suite under measurement.
    pub target: &'a mut Target,
    /// The loaded customers' ids.
    pub ids: Arc<Vec<String>>,
    /// The benchmark's settings.
    pub settings: &'a Settings,
}
