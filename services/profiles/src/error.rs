//! Errors of the profiles operations and their one mapping to `ApiError`.

use rapport_kit::{ApiError, FieldErrors, error::classify_db_error};
use uuid::Uuid;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; each violation names its field.
    #[error("invalid argument")]
    Invalid(FieldErrors),
    /// No such customer for this tenant.
    #[error("customer {0} not found")]
    NotFound(Uuid),
    /// No customer holds this identity.
    #[error("no customer has this identity in {0}")]
    IdentityUnknown(String),
    /// Another customer holds the identity.
    #[error("identity in {0} belongs to another customer")]
    IdentityTaken(String),
    /// A concurrent writer changed what this operation read; retrying works.
    #[error("concurrent change to {0}")]
    Conflict(&'static str),
    /// Another service did not do its part (down, or answered an error).
    #[error("{0}")]
    Peer(String),
    /// Another service refused this one's internal credential: a deployment
    /// fault that retrying does not mend.
    #[error("{0}")]
    PeerRefused(String),
    /// This process does not know where the other services are.
    #[error("customer export and erasure need the other services: {0}")]
    NoPeers(&'static str),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        match err {
            Error::Invalid(fields) => ApiError::InvalidArgument(fields),
            Error::NotFound(id) => ApiError::NotFound {
                what: "customer",
                id: id.to_string(),
            },
            Error::IdentityUnknown(source) => ApiError::NotFound {
                what: "customer",
                id: format!("with that identity in {source:?}"),
            },
            Error::IdentityTaken(source) => ApiError::AlreadyExists {
                reason: "IDENTITY_TAKEN",
                message: format!("the identity in {source:?} belongs to another customer"),
            },
            Error::Conflict(what) => {
                ApiError::Unavailable(format!("concurrent change to {what}; retry"))
            }
            Error::Peer(message) => ApiError::Unavailable(format!(
                "{message}; the parts done are kept: retry to complete"
            )),
            Error::PeerRefused(message) => ApiError::FailedPrecondition {
                reason: "PEER_CREDENTIAL_REFUSED",
                message: format!(
                    "{message}: give every service the same internal_tokens.profiles (the \
                     parts done are kept; retry once it is mended)"
                ),
            },
            e @ Error::NoPeers(_) => ApiError::FailedPrecondition {
                reason: "PEERS_NOT_CONFIGURED",
                message: e.to_string(),
            },
            Error::Db(e) => classify_db_error(e, "customer"),
        }
    }
}

rapport_kit::service_error!(Error);
