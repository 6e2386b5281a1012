//! Rapport scoring service: per-customer aggregates kept current as
//! ingestion's outbox relay delivers changes, scores served from a versioned
//! cache with the database behind it, the customer-value science added to
//! every score at read time from per-tenant fits a background job keeps
//! current, and the business rules over those scores.
//!
//! Where things live: `grpc/` the handlers; `aggregates/` what a change does to a
//! customer's totals (plain values); `scores/` applying changes, the read
//! path and the cache; `value/` the models, fits and read-time
//! measures; `refresh/` keeping fits and population figures current;
//! `rules/` the business rules; `repo/` and `rules/repo/` the storage;
//! `config/` each tenant's settings; `dedupe/` the window change ids are
//! remembered for; `figures/` the population figures stored for large
//! tenants; `reports/` the report jobs; `loyalty/`
//! the points programme and ledger; `worker.rs` the background loops.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod aggregates;
mod calendar;
mod config;
mod dedupe;
mod error;
mod exact_float;
mod feed;
mod figures;
mod grpc;
mod loyalty;
mod metrics;
mod migrations;
mod profiles;
mod refresh;
mod repo;
mod reports;
mod rules;
mod scores;
mod server;
mod value;
mod worker;

pub use dedupe::{DRY_RUN_LIMIT, MAX_INLINE_FIGURES, Retired, ScoringConfig};
pub use error::{FIGURES_PENDING, UNFITTABLE};
pub use feed::FeedConfig;
pub use migrations::{MIGRATIONS, SCHEMA};
pub use reports::ReportsConfig;
pub use server::{PEERS, add_to, cache_from_config, serve};
pub use worker::{RefreshOptions, RulesOptions, Scoring, spawn_refresh, spawn_rules};
