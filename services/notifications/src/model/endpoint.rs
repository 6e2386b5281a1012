//! An integration endpoint as stored (without its secret) and its wire form.

use chrono::{DateTime, Utc};
use rapport_kit::domain::chrono_to_timestamp;
use rapport_proto::v1 as pb;

/// One of the tenant's own systems that events are posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// What rules and sends name it by.
    pub name: String,
    /// The http(s) URL posted to.
    pub url: String,
    /// For people.
    pub description: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When its URL, description or secret last changed.
    pub updated_at: DateTime<Utc>,
    /// When its current secret was set.
    pub secret_set_at: DateTime<Utc>,
}

impl Endpoint {
    /// The contract's form.
    pub fn into_proto(self) -> pb::IntegrationEndpoint {
        pb::IntegrationEndpoint {
            name: self.name,
            url: self.url,
            description: self.description,
            created_at: Some(chrono_to_timestamp(self.created_at)),
            updated_at: Some(chrono_to_timestamp(self.updated_at)),
            secret_set_at: Some(chrono_to_timestamp(self.secret_set_at)),
        }
    }
}
