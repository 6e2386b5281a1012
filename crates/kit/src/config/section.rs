//! A service's own settings: a table of the shared namespace (`[notify]` in
//! the file, `RAPPORT_NOTIFY__*` in the environment) that the service types,
//! defaults and validates, so kit holds only what every process shares.

use std::collections::BTreeMap;

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::ConfigError;

/// The sections services own. Kit knows their names only, so a misspelt
/// section is refused at start-up by every process, while keys inside a
/// section are checked by the service that reads it.
pub const SECTIONS: &[&str] = &[
    "relay",
    "notify",
    "ingest",
    "feed",
    "reports",
    "opportunities",
    "scoring",
];

/// A service's settings table, read with [`super::Config::section`].
pub trait Section: Serialize + DeserializeOwned + Default {
    /// The table's name, one of [`SECTIONS`].
    const NAME: &'static str;

    /// Checks values that parse but make no sense; the message names the key.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// The sections as layered (file, environment, flags), untyped until their
/// owner reads them.
#[derive(Clone, Default)]
pub struct Sections(pub(super) BTreeMap<String, Value>);

/// Names only: untyped values may hold secrets (`notify.smtp.password`) that
/// only the owner's types know to hide.
impl std::fmt::Debug for Sections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}
