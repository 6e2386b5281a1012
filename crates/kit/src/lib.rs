//! The common server kit every Rapport service is built from: typed
//! configuration, telemetry and metrics, authentication and tenants, storage connections
//! and migrations, domain types validated at the edge, the mapping of errors to
//! `tonic::Status`, and the one function that assembles a gRPC server.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod codec;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod import;
pub mod internal;
pub mod metrics;
pub mod paging;
pub mod peers;
pub mod server;
pub mod shutdown;
pub mod telemetry;
pub mod tenants;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use auth::{Authenticator, Principal, TenantContext};
pub use db::Db;
pub use error::{ApiError, FieldErrors};
