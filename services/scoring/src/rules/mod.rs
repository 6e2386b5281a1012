//! Business rules: CEL conditions over a customer's scores, profile and
//! events, with actions (notify, webhook, tier, tag). Rules are versioned
//! (draft, publish, roll back) and evaluated durably: ApplyChanges writes work
//! rows in its own transaction, a worker on every replica claims them (SKIP
//! LOCKED), and a periodic pass per tenant catches conditions that become true
//! with time alone. Rules build on scores; scores know nothing of rules.

pub(crate) mod actions;
mod catalog;
pub mod definition;
pub mod dry_run;
pub mod editing;
mod endpoints;
mod env;
mod evaluate;
pub mod lists;
pub mod ranges;
pub mod repo;
pub mod rounds;
pub mod sample;
mod schedule;
mod stats;
pub mod validate;

use rapport_kit::{Authenticator, Db, internal::InternalCredentials};
use rapport_proto::v1::notifications_service_client::NotificationsServiceClient;
use tonic::transport::Channel;

use crate::{profiles::Profiles, scores::Scores};

/// What the rules RPCs and the worker share.
#[derive(Clone)]
pub struct Rules {
    pub(crate) repo: repo::RuleRepo,
    pub(crate) evaluation: repo::EvaluationRepo,
    /// GetRuleStats's reads, on the reader.
    pub(crate) stats_repo: repo::StatsRepo,
    pub(crate) scores: Scores,
    pub(crate) profiles: Profiles,
    pub(crate) notifications: NotificationsServiceClient<Channel>,
    pub(crate) internal: InternalCredentials,
    pub(crate) auth: Authenticator,
    pub(crate) lists: lists::ListCache,
    /// Most customers one DryRunRule, or one GetRuleStats, reads
    /// (`scoring.dry_run_limit`).
    pub(crate) dry_run_limit: u32,
}

impl Rules {
    /// Over the service's pool and parts.
    pub(crate) fn new(
        db: Db,
        reader: Db,
        scores: Scores,
        profiles: Profiles,
        notifications: NotificationsServiceClient<Channel>,
        auth: Authenticator,
        dry_run_limit: u32,
    ) -> Self {
        Rules {
            repo: repo::RuleRepo { db: db.clone() },
            lists: lists::ListCache::new(crate::reports::repo::ReportRepo::new(db.clone())),
            evaluation: repo::EvaluationRepo { db },
            stats_repo: repo::StatsRepo { reader },
            scores,
            // One internal credential for every peer.
            internal: profiles.internal.clone(),
            profiles,
            notifications,
            auth,
            dry_run_limit,
        }
    }
}
