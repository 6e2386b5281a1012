//! The score change feed (WatchScoreChanges): when a score is written, what
//! changed in it (tier, RFM segment, lifecycle, P(alive) band, lifetime
//! value) is logged in the same transaction ([`log_rows`], written by
//! [`store::Record`]); watchers read the log in commit order from a resume
//! token ([`watch`]); a retention pass deletes what is older than the
//! window ([`Feed::retire`]); subscriptions deliver the same events to the
//! tenant's integration endpoints ([`subscriptions`]).
//!
//! The log is a table, not a message broker: the event row commits or rolls
//! back with the score it describes, so there is no second write to get
//! wrong, and a resume is a range read on the tenant's key.

mod diff;
mod grpc;
mod position;
mod store;
pub mod subscriptions;
mod watch;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use prost::Message;
use rapport_kit::{
    Db,
    config::{ConfigError, Section},
    domain::{CurrencyCode, chrono_to_timestamp},
    shutdown::Shutdown,
};
use rapport_proto::v1::{Money, Rfm, Score, ScoreChangeEvent, ValueScores};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use grpc::FeedApi;
pub use position::Position;
pub(crate) use store::Record;
pub use store::{FeedRepo, LogRow};
pub use subscriptions::Subscriptions;

use crate::{
    repo::StoredScore,
    scores::assemble,
    value::{histories::minor, measures, tenant_state::TenantState},
};

/// The feed's settings (`[feed]`, `RAPPORT_FEED__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedConfig {
    /// Whether score writes record change events. Off by default: the
    /// feed's work on every write (locking and reading each changed
    /// customer's old score, computing both versions' measures) cut
    /// ApplyChanges to about a quarter of its throughput in the benchmark.
    /// Off, WatchScoreChanges and subscriptions are refused with
    /// FEED_DISABLED.
    pub enabled: bool,
    /// How long events are kept, in hours (default a week): a resume token
    /// older than that is refused with RESUME_TOKEN_EXPIRED.
    pub retention_hours: u32,
    /// Pause between looks at the log when a watcher has caught up, in
    /// milliseconds.
    pub poll_interval_ms: u64,
    /// Most events read (and sent in one response) at a time.
    pub page_size: u32,
    /// Most watchers of one tenant on one replica at once.
    pub max_streams_per_tenant: u32,
    /// Most events one retention pass deletes.
    pub purge_batch: u32,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            enabled: false,
            retention_hours: 7 * 24,
            poll_interval_ms: 200,
            page_size: 500,
            max_streams_per_tenant: 16,
            purge_batch: 10_000,
        }
    }
}

impl Section for FeedConfig {
    const NAME: &'static str = "feed";

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.retention_hours == 0 {
            return bad("feed.retention_hours must be at least 1");
        }
        if !(10..=60_000).contains(&self.poll_interval_ms) {
            return bad("feed.poll_interval_ms must be within 10..=60000");
        }
        if !(1..=5_000).contains(&self.page_size) {
            return bad("feed.page_size must be within 1..=5000");
        }
        if self.max_streams_per_tenant == 0 || self.purge_batch == 0 {
            return bad("feed.max_streams_per_tenant and feed.purge_batch must be at least 1");
        }
        Ok(())
    }
}

impl FeedConfig {
    /// The retention window.
    pub fn retention(&self) -> chrono::Duration {
        chrono::Duration::hours(self.retention_hours as i64)
    }
}

/// Reason in the ErrorInfo of a feed call while `feed.enabled` is off.
pub const FEED_DISABLED: &str = "FEED_DISABLED";

/// The refusal of a feed call while the feed is off.
pub fn disabled() -> rapport_kit::ApiError {
    rapport_kit::ApiError::FailedPrecondition {
        reason: FEED_DISABLED,
        message: "the score change feed is off in this deployment: no change events are \
                  recorded; switch it on with feed.enabled = true (RAPPORT_FEED__ENABLED=true) \
                  on the scoring service"
            .to_owned(),
    }
}

/// The feed as a service holds it: the log, its settings, the watchers per
/// tenant, and the process's shutdown (watchers end with it).
#[derive(Clone)]
pub struct Feed {
    pub(crate) repo: FeedRepo,
    pub(crate) config: FeedConfig,
    pub(crate) shutdown: Shutdown,
    streams: Arc<Mutex<HashMap<Uuid, u32>>>,
}

impl Feed {
    /// The feed over the service's primary store.
    pub fn new(db: Db, config: FeedConfig, shutdown: Shutdown) -> Self {
        Feed {
            repo: FeedRepo::new(db),
            config,
            shutdown,
            streams: Arc::default(),
        }
    }

    /// One retention pass: events older than the window deleted, at most
    /// `purge_batch` of them; the number deleted.
    pub async fn retire(&self, now: DateTime<Utc>) -> sqlx::Result<usize> {
        let before = now - self.config.retention();
        self.repo.purge(before, self.config.purge_batch).await
    }

    /// A watcher's slot for `tenant`, or `None` when it has as many as allowed.
    fn admit(&self, tenant: Uuid) -> Option<Slot> {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let n = streams.entry(tenant).or_default();
        if *n >= self.config.max_streams_per_tenant {
            return None;
        }
        *n += 1;
        Some(Slot {
            tenant,
            streams: self.streams.clone(),
        })
    }
}

/// A watcher counted against its tenant until dropped.
struct Slot {
    tenant: Uuid,
    streams: Arc<Mutex<HashMap<Uuid, u32>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = streams.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                streams.remove(&self.tenant);
            }
        }
    }
}

/// A score as a watcher sees it: as GetScore would answer at `now`, without
/// the explanations and monthly spend (they change with every write and
/// would make each event several KiB).
fn view(s: &StoredScore, state: &TenantState, currency: CurrencyCode, now: DateTime<Utc>) -> Score {
    let mut score = assemble::stored(s);
    assemble::finish(&mut score, now);
    measures::enrich(&mut score, state, currency, now);
    score.basis = None;
    score.explanations.clear();
    score.monthly_spend.clear();
    score
}

/// The tier a score shows at `now` (a rule's override, else the tenant's
/// thresholds); empty without one.
pub fn tier(s: &StoredScore, state: &TenantState, c: CurrencyCode, now: DateTime<Utc>) -> String {
    compared(s, state, c, now).tier
}

/// What the feed compares of a score (tier, RFM segment, lifecycle segment,
/// P(alive), lifetime value), as GetScore would show them at `now`, in a
/// `Score` holding only those: computed without the explanations (whose
/// text is most of the cost of a full view, and which nearly every write
/// would throw away, since few writes change any of these).
fn compared(s: &StoredScore, state: &TenantState, c: CurrencyCode, now: DateTime<Utc>) -> Score {
    let mut score = assemble::stored(s);
    assemble::finish(&mut score, now);
    let m = measures::measures(&score, state, c, now);
    let tier = match score.basis.as_ref().and_then(|b| b.tier_override.clone()) {
        Some(set) => set,
        None => m.tier.map(|t| t.tier).unwrap_or_default(),
    };
    Score {
        tier,
        segment: std::mem::take(&mut score.segment),
        rfm: m.rfm.map(|r| Rfm {
            segment: r.segment.name().to_owned(),
            ..Rfm::default()
        }),
        value: m.prediction.map(|p| ValueScores {
            probability_alive: Some(p.probability_alive),
            lifetime_value: Some(Money {
                currency_code: c.as_str().to_owned(),
                minor_units: minor(p.lifetime.total, c),
            }),
            ..ValueScores::default()
        }),
        ..Score::default()
    }
}

/// The log rows of a write that took the customers' scores from `old` to
/// `new` (`old` lacks the customers scored for the first time): one per
/// customer with something to report, carrying the full view of its new
/// score (only those customers pay for it).
pub fn log_rows(
    state: &TenantState,
    currency: CurrencyCode,
    old: &[StoredScore],
    new: &[StoredScore],
    now: DateTime<Utc>,
) -> Vec<LogRow> {
    let before: HashMap<Uuid, Score> = old
        .iter()
        .map(|s| (s.row.customer_id, compared(s, state, currency, now)))
        .collect();
    new.iter()
        .filter_map(|s| {
            let after = compared(s, state, currency, now);
            let changes = diff::changes(before.get(&s.row.customer_id), &after);
            if changes.is_empty() {
                return None;
            }
            let event = ScoreChangeEvent {
                customer_id: s.row.customer_id.to_string(),
                score: Some(view(s, state, currency, now)),
                changes,
                at: Some(chrono_to_timestamp(now)),
                resume_token: String::new(),
            };
            Some(LogRow {
                customer_id: s.row.customer_id,
                at: now,
                event: event.encode_to_vec(),
            })
        })
        .collect()
}

/// Waits `poll`; `false` when shutdown came first.
async fn paused(poll: Duration, shutdown: &Shutdown) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(poll) => true,
        _ = shutdown.wait() => false,
    }
}
