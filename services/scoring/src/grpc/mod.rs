//! The gRPC handlers of ScoringService and RulesService. Each unpacks its
//! request into domain values, calls the domain once, and converts the
//! answer; errors become statuses in one place ([`crate::error`]).

mod audit;
mod customer_data;
mod dead_letters;
mod page_tokens;
mod raw_reads;
mod requests;
pub(crate) mod responses;
mod rules;
mod scoring;

pub use raw_reads::ScoringRoutes;
pub use rules::RulesApi;
pub use scoring::ScoringApi;
