//! Storage of rules and their evaluation. The rules tables keep ids as text
//! and times as microseconds on both backends, so every statement is one SQL
//! text run on either pool; only the lease claims differ.

mod edits;
mod firings;
mod membership;
mod queue;
mod records;
mod rules;
mod stats;

pub use firings::{FiringRow, FiringsQuery, NewFiring};
pub use queue::WorkRow;
pub use records::{NewVersion, RuleRecord, VersionRecord};
pub use rules::RuleRepo;
pub use stats::RuleWindow;

use rapport_kit::Db;
use uuid::Uuid;

/// Storage of evaluation: the work queue, per (rule, customer) match state,
/// firings, evaluation errors, segment/tier membership and marks.
#[derive(Debug, Clone)]
pub struct EvaluationRepo {
    pub(crate) db: Db,
}

/// An id the rules tables keep as text.
fn parse_uuid(s: &str) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}
