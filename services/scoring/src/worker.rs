//! The background loops, run on every replica: the customer-value refresh
//! (with the change feed's and the dedupe table's retention passes) and the
//! rules worker. Each migrates its database first (as the health
//! check does; migrating twice is harmless), so its first round does not race
//! the server's start, then runs a round per poll until shutdown.

use std::time::Duration;

use rapport_kit::{ApiError, Authenticator, Db, shutdown::Shutdown};
use tokio::task::JoinHandle;

use crate::{
    MIGRATIONS, SCHEMA,
    dedupe::{Dedupe, Retired},
    feed::{Feed, Subscriptions},
    figures::Figures,
    loyalty::{Loyalty, LoyaltyJobs},
    refresh::Refresher,
    reports::Reports,
    rules::Rules,
};
pub use crate::{refresh::pass::RefreshOptions, rules::rounds::RulesOptions};

/// The scoring service as [`add_to`](crate::add_to) assembled it: what its
/// background jobs ([`spawn_refresh`], [`spawn_rules`]) share with the
/// handlers.
#[derive(Clone)]
pub struct Scoring {
    pub(crate) refresher: Refresher,
    pub(crate) rules: Rules,
    pub(crate) feed: Feed,
    pub(crate) subscriptions: Subscriptions,
    pub(crate) reports: Reports,
    pub(crate) loyalty: Loyalty,
    pub(crate) dedupe: Dedupe,
    pub(crate) figures: Figures,
    pub(crate) auth: Authenticator,
    pub(crate) db: Db,
}

/// Starts the background refresh: every tenant's wallet estimates, model fit
/// and population on the tenant's fit interval, one replica per tenant at a
/// time; and on each poll the change feed's retention pass (events older than
/// `feed.retention_hours`, a bounded number per pass) and the dedupe
/// table's (partitions made ahead, days past `scoring.dedupe_retention_days`
/// dropped, old sentinel rows trimmed), and the stored population figures
/// (tenants past `scoring.inline_figures_limit` whose figures are missing or
/// older than `scoring.figures_max_age_seconds`); and beside it the
/// report runs (the schedule's, and those StartReport queued). Ends when
/// `shutdown` fires.
pub fn spawn_refresh(
    scoring: &Scoring,
    options: RefreshOptions,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    let s = scoring.clone();
    tokio::spawn(async move {
        if !migrated(&s.db, "scoring refresh", options.poll, &shutdown).await {
            return;
        }
        let reports = tokio::spawn(run_reports(s.reports.clone(), shutdown.clone()));
        let loyalty = tokio::spawn(run_loyalty(
            s.loyalty.clone(),
            options.poll,
            shutdown.clone(),
        ));
        loop {
            let pass = s.refresher.refresh_due(&s.auth, &options, &shutdown);
            if let Err(e) = pass.await {
                tracing::warn!(error = %e, "scoring refresh pass failed");
            }
            if let Err(e) = s.feed.retire(chrono::Utc::now()).await {
                tracing::warn!(error = %e, "score change retention pass failed");
            }
            if let Err(e) = s.dedupe.retire(chrono::Utc::now()).await {
                tracing::warn!(error = %e, "dedupe retention pass failed");
            }
            let figures =
                (s.figures).refresh_due(&s.auth, options.lease, chrono::Utc::now(), &shutdown);
            if let Err(e) = figures.await {
                tracing::warn!(error = %e, "population figures pass failed");
            }
            if !paused(options.poll, &shutdown).await {
                break;
            }
        }
        let _ = reports.await;
        let _ = loyalty.await;
    })
}

/// Queues the schedule's report runs and runs every queued one, a round per
/// poll, until `shutdown` (a run in progress is left to lapse and be taken
/// over).
async fn run_loyalty(loyalty: Loyalty, poll: std::time::Duration, shutdown: Shutdown) {
    loop {
        match loyalty.run_jobs(chrono::Utc::now()).await {
            Ok(done) if done != LoyaltyJobs::default() => {
                tracing::info!(
                    expired = done.expired,
                    birthdays = done.birthdays,
                    "loyalty points passes"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "loyalty points pass failed; retrying"),
        }
        if !paused(poll, &shutdown).await {
            return;
        }
    }
}

async fn run_reports(reports: Reports, shutdown: Shutdown) {
    loop {
        if let Err(e) = reports.schedule(chrono::Utc::now()).await {
            tracing::warn!(error = %e, "report schedule failed; retrying");
        }
        if let Err(e) = reports.run_queued(|| shutdown.is_triggered()).await {
            tracing::warn!(error = %e, "report runs failed; retrying");
        }
        if !paused(reports.poll(), &shutdown).await {
            return;
        }
    }
}

/// Starts the rules worker: evaluates the work ApplyChanges queues and each
/// tenant's periodic pass; and beside it the delivery of score change
/// subscriptions (both post through the notifications service). Run it on
/// every replica. Ends when `shutdown` fires.
pub fn spawn_rules(scoring: &Scoring, options: RulesOptions, shutdown: Shutdown) -> JoinHandle<()> {
    let s = scoring.clone();
    tokio::spawn(async move {
        if !migrated(&s.db, "rules worker", options.poll, &shutdown).await {
            return;
        }
        let deliveries = tokio::spawn(deliver(s.subscriptions.clone(), shutdown.clone()));
        loop {
            if let Err(e) = s.rules.round(&options, &shutdown).await {
                tracing::warn!(error = %e, "rules round failed; retrying");
            }
            if !paused(options.poll, &shutdown).await {
                break;
            }
        }
        let _ = deliveries.await;
    })
}

/// Hands the due subscriptions' events over, one round per poll, until
/// `shutdown`.
async fn deliver(subscriptions: Subscriptions, shutdown: Shutdown) {
    loop {
        if let Err(e) = subscriptions.deliver_due().await {
            tracing::warn!(error = %e, "score change delivery round failed; retrying");
        }
        if !paused(subscriptions.poll(), &shutdown).await {
            return;
        }
    }
}

impl Scoring {
    /// One round of the rules worker, as [`spawn_rules`] runs on every poll:
    /// the queued work, then every due tenant's periodic pass. For tools and
    /// tests that need to know when evaluation has happened.
    pub async fn run_rules_once(&self, options: RulesOptions) -> Result<(), ApiError> {
        let shutdown = Shutdown::new();
        let round = self.rules.round(&options, &shutdown);
        round.await.map_err(ApiError::from)
    }

    /// One delivery round of the score change subscriptions, as
    /// [`spawn_rules`] runs on every poll: every due subscription's events
    /// handed to the notifications service.
    pub async fn deliver_subscriptions_once(&self) -> Result<(), ApiError> {
        let round = self.subscriptions.deliver_due();
        round.await.map_err(ApiError::from)
    }

    /// Runs every queued report run, as [`spawn_refresh`] does beside the
    /// refresh: the runs ended. For tools and tests that need a report.
    pub async fn run_loyalty_once(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(usize, usize), ApiError> {
        let done = self.loyalty.run_jobs(now).await.map_err(ApiError::from)?;
        Ok((done.expired, done.birthdays))
    }

    /// Runs the report runs queued now, as [`spawn_refresh`] does.
    pub async fn run_reports_once(&self) -> Result<usize, ApiError> {
        let run = self.reports.run_queued(|| false);
        run.await.map_err(ApiError::from)
    }

    /// Queues the schedule's report runs as of `now`, as [`spawn_refresh`]
    /// does on every poll: the runs queued.
    pub async fn schedule_reports_once(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, ApiError> {
        let schedule = self.reports.schedule(now);
        schedule.await.map_err(ApiError::from)
    }

    /// One retention pass of the change feed, as [`spawn_refresh`] runs on
    /// every poll, as of `now`: the number of events deleted.
    pub async fn retire_changes_once(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, ApiError> {
        let retire = self.feed.retire(now);
        retire
            .await
            .map_err(|e| crate::error::storage("score changes")(e).into())
    }

    /// One retention pass of the dedupe table (`applied_changes`), as
    /// [`spawn_refresh`] runs on every poll, as of `now`.
    pub async fn retire_dedupe_once(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Retired, ApiError> {
        let retire = self.dedupe.retire(now);
        retire
            .await
            .map_err(|e| crate::error::storage("applied changes")(e).into())
    }

    /// One pass of the stored population figures, as [`spawn_refresh`] runs
    /// on every poll, judging their age as of `now`: the number of tenants
    /// whose figures were stored.
    pub async fn run_figures_once(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, ApiError> {
        let (lease, shutdown) = (RefreshOptions::default().lease, Shutdown::new());
        let pass = (self.figures).refresh_due(&self.auth, lease, now, &shutdown);
        pass.await.map_err(ApiError::from)
    }

    /// One pass of the background refresh, as [`spawn_refresh`] runs on
    /// every poll: every tenant due now is refreshed and its outcome
    /// recorded. For tools and tests that need to know when a refresh has
    /// happened.
    pub async fn run_refresh_once(&self, options: RefreshOptions) -> Result<(), ApiError> {
        let shutdown = Shutdown::new();
        let pass = (self.refresher).refresh_due(&self.auth, &options, &shutdown);
        pass.await.map_err(ApiError::from)
    }
}

/// Migrates the schema, retrying while the database does not answer;
/// `false` when shutdown came first.
async fn migrated(db: &Db, job: &'static str, poll: Duration, shutdown: &Shutdown) -> bool {
    while let Err(e) = db.migrate(SCHEMA, &MIGRATIONS).await {
        tracing::debug!(error = %e, job, "background job waits for its database");
        if !paused(poll.max(Duration::from_millis(500)), shutdown).await {
            return false;
        }
    }
    true
}

/// Waits `poll`; `false` when shutdown came first.
async fn paused(poll: Duration, shutdown: &Shutdown) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(poll) => true,
        _ = shutdown.wait() => false,
    }
}
