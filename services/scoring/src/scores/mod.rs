//! Per-customer scores: changes applied to the stored aggregates, the cache
//! in front of them, and the read path that finishes and enriches a score
//! for the caller. Rules and the value refresh build on this; it depends on
//! neither.

pub mod apply;
pub mod assemble;
pub mod cache;
pub mod dead_letters;
pub mod equity;
pub mod marks;
pub mod read;
pub mod refusal;
pub mod wallets;

use std::sync::Arc;

use crate::{repo::ScoreRepo, value::tenant_states::TenantStates};

/// The tenant's scores: the stored aggregates, the cache in front of them,
/// and the tenant state read-time measures are computed with.
#[derive(Clone)]
pub struct Scores {
    /// Whether writes record change feed events (`feed.enabled`).
    pub(crate) feed: bool,
    pub(crate) repo: ScoreRepo,
    pub(crate) cache: Arc<cache::ScoreCache>,
    pub(crate) states: Arc<TenantStates>,
    /// Loyalty points, posted with the purchases that earn them.
    pub(crate) loyalty: crate::loyalty::Loyalty,
    /// Which change ids can still be told apart from ones applied before
    /// (`scoring.dedupe_retention_days`).
    pub(crate) window: crate::dedupe::Window,
}
