//! Population figures of large tenants (DESIGN.md "Beyond one machine":
//! whole-tenant work is never done inside one request). SummarizeScores and
//! GetCustomerEquity read every score of the tenant; a tenant with at most
//! `scoring.inline_figures_limit` scores is still read in the request
//! (fresh), which a bounded count decides ([`Figures::inline`]). A larger
//! one is answered the figures the refresh worker stores
//! ([`pass`]), recomputed once older than `scoring.figures_max_age_seconds`
//! a page at a time on the reader ([`summary`], and the equity the request
//! path computes), never in one long transaction.

pub mod pass;
pub mod repo;
mod summary;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use prost::Message;
use rapport_kit::tenants::Tenant;
use rapport_proto::v1::{GetCustomerEquityResponse, SummarizeScoresResponse};
use uuid::Uuid;

pub use repo::FiguresRepo;

use crate::{
    dedupe::ScoringConfig,
    error::{Error, storage},
    repo::models::ModelRepo,
    scores::Scores,
};

/// What the stored figures are called in errors.
const WHAT: &str = "population figures";

/// The figures stored per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SummarizeScores' answer.
    Summary,
    /// GetCustomerEquity's answer.
    Equity,
}

impl Kind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Summary => "summary",
            Kind::Equity => "equity",
        }
    }
}

/// The population figures: computed in the request for small tenants,
/// stored by the refresh worker for large ones.
#[derive(Clone)]
pub struct Figures {
    pub(crate) repo: FiguresRepo,
    pub(crate) scores: Scores,
    /// The refresh's leases, which the pass takes a tenant by too.
    pub(crate) models: ModelRepo,
    pub(crate) config: ScoringConfig,
    /// Tenants this replica found within the limit, and when: the pass
    /// counts them again only once the figures' max age has passed.
    small: Arc<Mutex<HashMap<Uuid, DateTime<Utc>>>>,
}

impl Figures {
    /// The figures over `repo`'s tables, for `scores`, leasing through
    /// `models`, with the `[scoring]` limits of `config`.
    pub fn new(
        repo: FiguresRepo,
        scores: Scores,
        models: ModelRepo,
        config: ScoringConfig,
    ) -> Self {
        Figures {
            repo,
            scores,
            models,
            config,
            small: Arc::default(),
        }
    }

    /// SummarizeScores: computed now for a small tenant, else the stored
    /// figures; [`Error::FiguresPending`] before the first are stored.
    pub async fn summarize(&self, tenant: &Tenant) -> Result<SummarizeScoresResponse, Error> {
        if self.inline(tenant.id).await? {
            let now = Utc::now();
            let summary = self.scores.summarize(tenant.id, now).await?;
            return Ok(summary::response(summary, tenant, now));
        }
        let stored = self.stored(tenant.id, Kind::Summary).await?;
        let mut answer = decode::<SummarizeScoresResponse>(stored.ok_or(Error::FiguresPending)?)?;
        answer.stored = true;
        Ok(answer)
    }

    /// GetCustomerEquity: computed now for a small tenant, else the stored
    /// figures; before the first are stored, [`Error::NotFitted`] without a
    /// fit (none are stored then), [`Error::FiguresPending`] with one.
    pub async fn equity(&self, tenant: &Tenant) -> Result<GetCustomerEquityResponse, Error> {
        if self.inline(tenant.id).await? {
            return self.scores.equity(tenant, Utc::now()).await;
        }
        let Some(stored) = self.stored(tenant.id, Kind::Equity).await? else {
            let state = self.scores.states.get(tenant.id).await?;
            return Err(match state.fit {
                None => Error::NotFitted,
                Some(_) => Error::FiguresPending,
            });
        };
        let mut answer = decode::<GetCustomerEquityResponse>(stored)?;
        answer.stored = true;
        Ok(answer)
    }

    /// Whether the tenant has at most `inline_figures_limit` scores, read
    /// by counting no further than one past it.
    pub async fn inline(&self, tenant: Uuid) -> Result<bool, Error> {
        let limit = i64::from(self.config.inline_figures_limit);
        let counted = self.repo.count_upto(tenant, limit + 1).await;
        Ok(counted.map_err(storage("score"))? <= limit)
    }

    async fn stored(&self, tenant: Uuid, kind: Kind) -> Result<Option<Vec<u8>>, Error> {
        let stored = self.repo.get(tenant, kind).await.map_err(storage(WHAT))?;
        Ok(stored.map(|s| s.response))
    }
}

/// A stored answer decoded; one that does not decode is a bug.
fn decode<M: Message + Default>(bytes: Vec<u8>) -> Result<M, Error> {
    M::decode(bytes.as_slice())
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored {WHAT} do not decode: {e}")))
}

#[cfg(test)]
mod tests;
