//! Errors of the notifications operations and their one mapping to
//! `ApiError`.

use rapport_kit::{ApiError, FieldErrors, error::classify_db_error};
use rapport_proto::v1 as pb;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; each violation names its field.
    #[error("invalid argument: {0:?}")]
    Invalid(FieldErrors),
    /// No such thing for this tenant.
    #[error("{what} {id} not found")]
    NotFound {
        /// Kind of thing: "notification", "template", "customer".
        what: &'static str,
        /// Which one, as the caller named it.
        id: String,
    },
    /// This deployment has no provider for the channel.
    #[error("channel {} is not configured in this deployment", .0.as_str_name())]
    ChannelNotConfigured(pb::Channel),
    /// Webhooks are always signed, and the tenant has no signing secret yet.
    #[error(
        "webhooks are signed: create the tenant's signing secret with RotateWebhookSecret first"
    )]
    WebhookSecretMissing,
    /// A send names an integration endpoint the tenant has not registered.
    #[error(
        "integration endpoint {0:?} is not registered: register it with PutIntegrationEndpoint"
    )]
    EndpointNotFound(String),
    /// The tenant already has the most endpoints allowed.
    #[error("a tenant may register at most {0} integration endpoints")]
    TooManyEndpoints(usize),
    /// Concurrent writes kept this one from applying; retrying succeeds.
    #[error("{0}")]
    Contended(&'static str),
    /// Profiles or scoring did not answer.
    #[error("{0}")]
    PeerUnavailable(String),
    /// A stored value cannot be read back (a bug or manual edits).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A webhook signing secret cannot be sealed or opened (the key is
    /// unusable or not the one it was sealed with).
    #[error(transparent)]
    Seal(#[from] crate::seal::SealError),
    /// The database refused or could not be reached.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// Already in the API's terms (a credential refused, a bad id).
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        match err {
            Error::Invalid(fields) => ApiError::InvalidArgument(fields),
            Error::NotFound { what, id } => ApiError::NotFound { what, id },
            e @ Error::ChannelNotConfigured(_) => ApiError::FailedPrecondition {
                reason: "CHANNEL_NOT_CONFIGURED",
                message: e.to_string(),
            },
            e @ Error::WebhookSecretMissing => ApiError::FailedPrecondition {
                reason: "WEBHOOK_SECRET_MISSING",
                message: e.to_string(),
            },
            e @ Error::EndpointNotFound(_) => ApiError::FailedPrecondition {
                reason: "INTEGRATION_ENDPOINT_NOT_FOUND",
                message: e.to_string(),
            },
            e @ Error::TooManyEndpoints(_) => ApiError::FailedPrecondition {
                reason: "ENDPOINT_LIMIT",
                message: e.to_string(),
            },
            Error::Contended(message) => ApiError::Unavailable(message.to_owned()),
            Error::PeerUnavailable(message) => ApiError::Unavailable(message),
            Error::Corrupt(what) => ApiError::Internal(anyhow::anyhow!(what)),
            Error::Seal(e) => ApiError::Internal(anyhow::anyhow!(e)),
            Error::Db(e) => classify_db_error(e, "notification"),
            Error::Api(e) => e,
        }
    }
}

rapport_kit::service_error!(Error);
