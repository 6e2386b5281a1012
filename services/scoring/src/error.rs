//! The service's one error type. A failure is classified where it arises (a
//! storage failure names what was being read or written), and turned into
//! the API's error in one place, [`From<Error> for ApiError`].

use rapport_kit::{ApiError, FieldErrors, error::classify_db_error};

/// Reason in the ErrorInfo of data the models cannot fit.
pub const UNFITTABLE: &str = "MODEL_UNFITTABLE";
/// Reason in the ErrorInfo of a rule version posting to an integration
/// endpoint that is not registered; the notifications service refuses a
/// post to one with the same reason.
pub const ENDPOINT_NOT_FOUND: &str = "INTEGRATION_ENDPOINT_NOT_FOUND";

/// Reason in the ErrorInfo of SummarizeScores or GetCustomerEquity for a
/// large tenant whose figures the refresh worker has not stored yet.
pub const FIGURES_PENDING: &str = "FIGURES_PENDING";

/// Why a scoring operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input; each violation names its field.
    #[error("invalid argument: {0:?}")]
    Invalid(FieldErrors),
    /// No such thing for this tenant.
    #[error("{what} {id} not found")]
    NotFound {
        /// Kind of thing: "score", "rule", ...
        what: &'static str,
        /// Its id as given.
        id: String,
    },
    /// Reading or writing `what` in the database failed.
    #[error("{what}: {source}")]
    Storage {
        /// What was being read or written: "score", "tenant scoring state", ...
        what: &'static str,
        /// The database's error, classified by SQLSTATE when shown.
        source: sqlx::Error,
    },
    /// No purchase model can be fitted to the tenant's data; the reason.
    #[error("{0}")]
    Unfittable(String),
    /// The tenant has no fitted model yet.
    #[error("no model has been fitted for this tenant yet; call FitModels")]
    NotFitted,
    /// The tenant is too large for its population figures to be computed in
    /// a request, and the refresh worker has not stored them yet.
    #[error(
        "this tenant has more scores than scoring.inline_figures_limit, so its population \
         figures are computed by the scoring refresh worker, which has not stored them yet; \
         retry in a few minutes"
    )]
    FiguresPending,
    /// Another rule of the tenant has that name.
    #[error("another rule of this tenant has that name")]
    RuleNameTaken,
    /// The request id already made a version of another rule.
    #[error("request_id was already used for another rule")]
    RequestReused,
    /// A rule edit was made against an older version.
    #[error("the rule is at version {latest}; the update was made against {expected}")]
    RuleStale {
        /// The version the edit was made on.
        expected: i64,
        /// The version stored.
        latest: i64,
    },
    /// A rule version posts to an integration endpoint the tenant has not
    /// registered (deleted since the version was saved): it is not published.
    #[error(
        "rule version {version} posts to integration endpoint {endpoint:?}, which is not \
         registered: register it with NotificationsService.PutIntegrationEndpoint (rapport \
         endpoints put), or publish a version that does not post to it"
    )]
    EndpointNotRegistered {
        /// The endpoint's name.
        endpoint: String,
        /// The version that was to be published.
        version: i64,
    },
    /// A peer (Profiles, notifications, the tenant directory) did not answer,
    /// or concurrent writes kept winning: retrying later may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// Already in the API's form: a refresh failure once recorded in the
    /// tenant's refresh status as the API shows it.
    #[error(transparent)]
    Api(ApiError),
    /// A bug or an unexpected failure; logged, not shown in detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The storage failure of `what`, for `map_err`.
pub fn storage(what: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |source| Error::Storage { what, source }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        match err {
            Error::Invalid(fields) => ApiError::InvalidArgument(fields),
            Error::NotFound { what, id } => ApiError::NotFound { what, id },
            Error::Storage { what, source } => classify_db_error(source, what),
            Error::Unfittable(message) => ApiError::FailedPrecondition {
                reason: UNFITTABLE,
                message,
            },
            e @ Error::NotFitted => ApiError::FailedPrecondition {
                reason: "MODEL_NOT_FITTED",
                message: e.to_string(),
            },
            e @ Error::FiguresPending => ApiError::NotReady {
                reason: FIGURES_PENDING,
                message: e.to_string(),
            },
            e @ Error::RuleNameTaken => ApiError::AlreadyExists {
                reason: "RULE_NAME_TAKEN",
                message: e.to_string(),
            },
            e @ Error::RequestReused => ApiError::invalid("request_id", e.to_string()),
            e @ Error::RuleStale { .. } => ApiError::FailedPrecondition {
                reason: "RULE_VERSION_STALE",
                message: e.to_string(),
            },
            e @ Error::EndpointNotRegistered { .. } => ApiError::FailedPrecondition {
                reason: ENDPOINT_NOT_FOUND,
                message: e.to_string(),
            },
            Error::Unavailable(message) => ApiError::Unavailable(message),
            Error::Api(e) => e,
            Error::Internal(e) => ApiError::Internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_keeps_its_code_and_reason() {
        let reason = |e: Error| match ApiError::from(e) {
            ApiError::FailedPrecondition { reason, .. }
            | ApiError::AlreadyExists { reason, .. } => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(Error::Unfittable("x".into())), UNFITTABLE);
        assert_eq!(reason(Error::NotFitted), "MODEL_NOT_FITTED");
        assert_eq!(reason(Error::RuleNameTaken), "RULE_NAME_TAKEN");
        let stale = Error::RuleStale {
            expected: 1,
            latest: 2,
        };
        assert_eq!(reason(stale), "RULE_VERSION_STALE");
        let deleted = Error::EndpointNotRegistered {
            endpoint: "crm".into(),
            version: 2,
        };
        assert!(deleted.to_string().contains("\"crm\""), "{deleted}");
        assert_eq!(reason(deleted), "INTEGRATION_ENDPOINT_NOT_FOUND");
        let ApiError::InvalidArgument(e) = ApiError::from(Error::RequestReused) else {
            panic!("not invalid")
        };
        assert_eq!(e.violations()[0].0, "request_id");
        let closed = Error::Storage {
            what: "tenant scoring state",
            source: sqlx::Error::PoolClosed,
        };
        assert!(matches!(ApiError::from(closed), ApiError::Unavailable(_)));
        let pending = tonic::Status::from(Error::FiguresPending);
        assert_eq!(pending.code(), tonic::Code::Unavailable);
        assert_eq!(rapport_kit::testing::reason(&pending), FIGURES_PENDING);
    }
}

rapport_kit::service_error!(Error);
