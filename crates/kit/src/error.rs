//! The one place a domain error becomes a `tonic::Status`. Handlers return
//! `Result<_, ApiError>` and convert with `?`/`into()`.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Field violations collected while validating a request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Exactly one violation.
    pub fn one(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldErrors(vec![(field.into(), reason.into())])
    }

    /// Records that `field` (a path such as `customer.email`) is bad.
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push((field.into(), reason.into()));
    }

    /// Keeps `Ok` values and records `Err` reasons under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(reason) => {
                self.add(field, reason);
                None
            }
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations as (field, reason) pairs.
    pub fn violations(&self) -> &[(String, String)] {
        &self.0
    }

    /// `Ok(())` when empty, otherwise the violations as an error.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidArgument(self))
        }
    }
}

/// What every service's own error type has in common, for an enum with an
/// `Invalid(FieldErrors)` variant and a `From<Error> for ApiError` mapping:
/// `Error::invalid(field, reason)`, `From<FieldErrors>`, the conversion to a
/// `tonic::Status` through `ApiError`, and a `valid(errors)` function that is
/// `Ok` when nothing was recorded.
#[macro_export]
macro_rules! service_error {
    ($error:ident) => {
        impl $error {
            /// One field violation.
            pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
                $error::Invalid($crate::FieldErrors::one(field, reason))
            }
        }

        impl From<$crate::FieldErrors> for $error {
            fn from(errors: $crate::FieldErrors) -> Self {
                $error::Invalid(errors)
            }
        }

        impl From<$error> for ::tonic::Status {
            fn from(err: $error) -> ::tonic::Status {
                $crate::ApiError::from(err).into()
            }
        }

        /// `Ok` when no violation was recorded, otherwise all of them as one error.
        #[allow(dead_code)]
        pub fn valid(errors: $crate::FieldErrors) -> Result<(), $error> {
            if errors.is_empty() {
                Ok(())
            } else {
                Err($error::Invalid(errors))
            }
        }
    };
}

/// Every error a Rapport service reports to its callers.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input; each violation names its field.
    #[error("invalid argument: {0:?}")]
    InvalidArgument(FieldErrors),
    /// The named thing does not exist (for this tenant).
    #[error("{what} {id} not found")]
    NotFound {
        /// Kind of thing: "customer", "score", ...
        what: &'static str,
        /// Its id as given.
        id: String,
    },
    /// The request conflicts with stored state.
    #[error("{message}")]
    AlreadyExists {
        /// Stable machine-readable reason, e.g. `IDENTITY_TAKEN`.
        reason: &'static str,
        /// What happened, for a person.
        message: String,
    },
    /// The system is not in a state that allows this.
    #[error("{message}")]
    FailedPrecondition {
        /// Stable machine-readable reason.
        reason: &'static str,
        /// What happened, for a person.
        message: String,
    },
    /// The caller is known but may not do this.
    #[error("{0}")]
    PermissionDenied(String),
    /// No or bad credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// A dependency is down; retrying later may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// Not available yet, for a reason a client can act on (retry later);
    /// UNAVAILABLE with an ErrorInfo.
    #[error("{message}")]
    NotReady {
        /// Stable machine-readable reason, e.g. `FIGURES_PENDING`.
        reason: &'static str,
        /// What happened and when it will not, for a person.
        message: String,
    },
    /// Too much load; retry with back-off.
    #[error("{0}")]
    ResourceExhausted(String),
    /// A bug or an unexpected failure; logged, not shown in detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// One field violation.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::InvalidArgument(FieldErrors::one(field, reason))
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> Code {
        match self {
            ApiError::InvalidArgument(_) => Code::InvalidArgument,
            ApiError::NotFound { .. } => Code::NotFound,
            ApiError::AlreadyExists { .. } => Code::AlreadyExists,
            ApiError::FailedPrecondition { .. } => Code::FailedPrecondition,
            ApiError::PermissionDenied(_) => Code::PermissionDenied,
            ApiError::Unauthenticated(_) => Code::Unauthenticated,
            ApiError::Unavailable(_) | ApiError::NotReady { .. } => Code::Unavailable,
            ApiError::ResourceExhausted(_) => Code::ResourceExhausted,
            ApiError::Internal(_) => Code::Internal,
        }
    }
}

const DOMAIN: &str = "rapport.dev";

/// Most bytes of field paths and reasons one status carries. A status travels
/// in HTTP/2 trailers, which clients limit (16 KiB is common): a request with
/// thousands of bad values, or one huge one echoed back, must still get an
/// answer the client can read, not a broken stream.
const VIOLATION_BYTES: usize = 4 << 10;
/// Most bytes of one field path, one reason, and a status message.
const FIELD_BYTES: usize = 200;
const REASON_BYTES: usize = 300;
const MESSAGE_BYTES: usize = 1 << 10;

/// `text` cut to at most `max` bytes on a character boundary, marked with `…`.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The first violations, as many as fit the trailer budget, each cut to
/// length; the summary names how many were left out.
fn invalid_argument(fields: &FieldErrors) -> Status {
    let mut details = ErrorDetails::new();
    let (mut used, mut lines) = (0, Vec::new());
    for (field, reason) in &fields.0 {
        let (field, reason) = (cut(field, FIELD_BYTES), cut(reason, REASON_BYTES));
        used += field.len() + reason.len();
        if used > VIOLATION_BYTES {
            break;
        }
        lines.push(format!("{field}: {reason}"));
        details.add_bad_request_violation(field, reason);
    }
    let mut summary = cut(&lines.join("; "), MESSAGE_BYTES);
    let left = fields.0.len() - lines.len();
    if left > 0 {
        summary.push_str(&format!(" (and {left} more)"));
    }
    Status::with_error_details(Code::InvalidArgument, summary, details)
}

impl From<ApiError> for Status {
    fn from(err: ApiError) -> Status {
        match err {
            ApiError::InvalidArgument(fields) => invalid_argument(&fields),
            ApiError::NotFound { what, id } => {
                let id = cut(&id, FIELD_BYTES);
                let details = ErrorDetails::with_error_info(
                    format!("{}_NOT_FOUND", what.to_ascii_uppercase()),
                    DOMAIN,
                    [("id".to_owned(), id.clone())],
                );
                Status::with_error_details(
                    Code::NotFound,
                    format!("{what} {id} not found"),
                    details,
                )
            }
            ApiError::AlreadyExists { reason, message } => {
                let details = ErrorDetails::with_error_info(reason, DOMAIN, []);
                Status::with_error_details(
                    Code::AlreadyExists,
                    cut(&message, MESSAGE_BYTES),
                    details,
                )
            }
            ApiError::FailedPrecondition { reason, message } => {
                let details = ErrorDetails::with_error_info(reason, DOMAIN, []);
                Status::with_error_details(
                    Code::FailedPrecondition,
                    cut(&message, MESSAGE_BYTES),
                    details,
                )
            }
            ApiError::PermissionDenied(m) => Status::permission_denied(cut(&m, MESSAGE_BYTES)),
            ApiError::Unauthenticated(m) => Status::unauthenticated(cut(&m, MESSAGE_BYTES)),
            ApiError::Unavailable(m) => Status::unavailable(cut(&m, MESSAGE_BYTES)),
            ApiError::NotReady { reason, message } => {
                let details = ErrorDetails::with_error_info(reason, DOMAIN, []);
                Status::with_error_details(Code::Unavailable, cut(&message, MESSAGE_BYTES), details)
            }
            ApiError::ResourceExhausted(m) => Status::resource_exhausted(cut(&m, MESSAGE_BYTES)),
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// Classifies a database error by SQLSTATE (Postgres) or extended code
/// (SQLite): unique violations become `AlreadyExists`, foreign keys `NotFound`,
/// connection trouble `Unavailable`, the rest `Internal`.
pub fn classify_db_error(err: sqlx::Error, what: &'static str) -> ApiError {
    match &err {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.as_ref() {
                // Postgres unique_violation; SQLite SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY.
                "23505" | "2067" | "1555" => ApiError::AlreadyExists {
                    reason: "ALREADY_EXISTS",
                    message: format!("{what} already exists"),
                },
                // Postgres foreign_key_violation; SQLite SQLITE_CONSTRAINT_FOREIGNKEY.
                "23503" | "787" => ApiError::NotFound {
                    what,
                    id: String::new(),
                },
                // Postgres serialization failure / deadlock; SQLite busy / locked.
                "40001" | "40P01" | "5" | "6" => {
                    ApiError::Unavailable(format!("{what}: concurrent update, retry"))
                }
                // Postgres admin shutdown, cannot connect now, too many connections.
                "57P01" | "57P03" | "53300" => ApiError::Unavailable("database unavailable".into()),
                _ => ApiError::Internal(anyhow::Error::new(err).context(what)),
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => ApiError::Unavailable("database unavailable".into()),
        _ => ApiError::Internal(anyhow::Error::new(err).context(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_violations_travel_in_details() {
        let mut f = FieldErrors::new();
        f.add("customer.email", "is not an email address");
        let status: Status = ApiError::InvalidArgument(f).into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let v = &details.bad_request().unwrap().field_violations[0];
        assert_eq!(v.field, "customer.email");
        assert!(status.message().contains("customer.email"));
    }

    #[test]
    fn thousands_of_violations_fit_in_trailers_a_client_reads() {
        let mut f = FieldErrors::new();
        for i in 0..5_000 {
            f.add(format!("customer_ids[{i}]"), "is not a customer id");
        }
        f.add("x".repeat(1 << 20), "é".repeat(1 << 20));
        let status: Status = ApiError::InvalidArgument(f).into();
        let details = status.get_error_details();
        let shown = &details.bad_request().unwrap().field_violations;
        assert_eq!(shown[0].field, "customer_ids[0]");
        assert!(shown.len() < 5_000, "{}", shown.len());
        let left = 5_001 - shown.len();
        assert!(status.message().ends_with(&format!("(and {left} more)")));
        // What goes on the wire: the message, percent-encoded, and the
        // details, base64-encoded, both well under 16 KiB.
        let response = status.clone().into_http::<()>();
        let size: usize = response
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        assert!(size < 12 << 10, "{size} bytes of trailers");
    }

    #[test]
    fn not_found_has_stable_reason() {
        let status: Status = ApiError::NotFound {
            what: "customer",
            id: "x".into(),
        }
        .into();
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(
            status.get_error_details().error_info().unwrap().reason,
            "CUSTOMER_NOT_FOUND"
        );
    }
}
