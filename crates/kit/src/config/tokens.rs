//! The internal credentials of the services that call others, one setting per
//! calling service.

use serde::{Deserialize, Serialize};

use super::Secret;

/// Each calling service's internal credential: `current[,previous]`. The
/// first value is the one the service presents; every value is accepted
/// from it, so a credential can be rotated without downtime. A service left
/// unset here uses `internal_token`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InternalTokens {
    /// Ingestion (`RAPPORT_INTERNAL_TOKENS__INGESTION`).
    pub ingestion: Option<Secret>,
    /// Scoring and its rules (`RAPPORT_INTERNAL_TOKENS__SCORING`).
    pub scoring: Option<Secret>,
    /// Notifications (`RAPPORT_INTERNAL_TOKENS__NOTIFICATIONS`).
    pub notifications: Option<Secret>,
    /// Profiles, for customer export and erasure
    /// (`RAPPORT_INTERNAL_TOKENS__PROFILES`).
    pub profiles: Option<Secret>,
}
