//! The dedupe window of ApplyChanges (issue 11). `applied_changes` holds
//! every change id applied, so a redelivery counts once; kept for ever it
//! grows with every transaction. Each id is kept under a day that is a pure
//! function of the id ([`day`]): the day its UUIDv7 was minted (ingestion's
//! "txn:<v7>" and "evt:<v7>"), or one sentinel day for any other id. On
//! Postgres the table is partitioned by that day.
//!
//! A change whose day is older than `scoring.dedupe_retention_days` is not
//! applied but dead-lettered ([`Window::admit`]): its row may be gone, so
//! it could not be told apart from one applied before. That is what lets
//! the retention pass ([`Dedupe::retire`], run by the refresh worker) drop
//! a whole day's partition once the day is past the window, one day later
//! than the window so a replica whose clock is a little behind never
//! admits a change whose row another replica has just dropped. The
//! sentinel day's rows carry no age in their id; they are trimmed by
//! `applied_at`, a bounded batch per pass, so for those ids the guarantee
//! is "counted once if redelivered within the window".
//!
//! Partitions are made ahead by the pass (today-2 up to 7 days ahead), never
//! on the apply path; should a day still lack one (the pass has not run
//! since the migration, or the worker was down for a week), the apply that
//! needs it makes it and tries again ([`store::missing_partition`]). There
//! is no DEFAULT partition: its rows would have to be moved out before that
//! day's partition could be made, and could not be dropped by day.

pub mod day;
pub mod store;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rapport_kit::config::{Config, ConfigError, Section};
use serde::{Deserialize, Serialize};

pub use store::DedupeRepo;

/// Days ahead of today a change's id may be dated: clocks drift, but a
/// change dated further ahead would outlive the window's reckoning.
pub const FUTURE_DAYS: i64 = 2;
/// Days before today the retention pass makes sure have a partition.
pub const BEHIND_DAYS: i64 = 2;
/// Days after today the retention pass makes ahead of time.
pub const AHEAD_DAYS: i64 = 7;
/// Longest window: every day in it is a partition, and the lookups that
/// cannot name the day (dead letters) probe each one.
pub const MAX_RETENTION_DAYS: u32 = 366;

/// Largest `inline_figures_limit`: counting to it is part of every
/// SummarizeScores and GetCustomerEquity request.
pub const MAX_INLINE_FIGURES: u32 = 1_000_000;
/// Allowed `dry_run_limit`: at least enough customers for a sample to
/// estimate the tenant within a few percent, at most what one request can
/// read and evaluate.
pub const DRY_RUN_LIMIT: std::ops::RangeInclusive<u32> = 1_000..=1_000_000;
/// Allowed `figures_max_age_seconds`: a minute (a big tenant's figures take
/// a while to compute) to a day.
pub const FIGURES_MAX_AGE: std::ops::RangeInclusive<u32> = 60..=86_400;

/// The scoring service's own settings (`[scoring]`,
/// `RAPPORT_SCORING__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoringConfig {
    /// Days a change id is remembered as applied. A change whose UUIDv7 id
    /// is older is dead-lettered instead of applied; other ids are
    /// forgotten this long after they were applied.
    pub dedupe_retention_days: u32,
    /// Most sentinel-day rows one retention pass deletes.
    pub dedupe_purge_batch: u32,
    /// Most scores a tenant may have for SummarizeScores and
    /// GetCustomerEquity to be computed in the request. A larger tenant is
    /// answered the figures the refresh worker stores.
    pub inline_figures_limit: u32,
    /// Age past which the refresh worker recomputes a large tenant's stored
    /// figures, in seconds.
    pub figures_max_age_seconds: u32,
    /// Most customers one DryRunRule reads: the first this many in
    /// customer id order. Ids are hashes, so over a larger tenant they are
    /// a uniform random sample, and the answer says it is sampled and
    /// scales its counts to the tenant.
    pub dry_run_limit: u32,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            dedupe_retention_days: 30,
            dedupe_purge_batch: 10_000,
            inline_figures_limit: 50_000,
            figures_max_age_seconds: 900,
            dry_run_limit: 50_000,
        }
    }
}

impl Section for ScoringConfig {
    const NAME: &'static str = "scoring";

    fn validate(&self) -> Result<(), ConfigError> {
        if !(2..=MAX_RETENTION_DAYS).contains(&self.dedupe_retention_days) {
            return Err(ConfigError::Invalid(format!(
                "scoring.dedupe_retention_days must be within 2..={MAX_RETENTION_DAYS} (got {}): \
                 changes older than it are refused, and a day's partition is dropped after it",
                self.dedupe_retention_days
            )));
        }
        if self.dedupe_purge_batch == 0 {
            return Err(ConfigError::Invalid(
                "scoring.dedupe_purge_batch must be at least 1".to_owned(),
            ));
        }
        if self.inline_figures_limit > MAX_INLINE_FIGURES {
            return Err(ConfigError::Invalid(format!(
                "scoring.inline_figures_limit must be at most {MAX_INLINE_FIGURES} (got {}): \
                 a tenant that size is read whole inside one request",
                self.inline_figures_limit
            )));
        }
        if !FIGURES_MAX_AGE.contains(&self.figures_max_age_seconds) {
            return Err(ConfigError::Invalid(format!(
                "scoring.figures_max_age_seconds must be within {}..={} (got {}): stored \
                 figures are recomputed once older than it",
                FIGURES_MAX_AGE.start(),
                FIGURES_MAX_AGE.end(),
                self.figures_max_age_seconds
            )));
        }
        if !DRY_RUN_LIMIT.contains(&self.dry_run_limit) {
            return Err(ConfigError::Invalid(format!(
                "scoring.dry_run_limit must be within {}..={} (got {}): a larger tenant's \
                 dry run evaluates a sample this size inside one request",
                DRY_RUN_LIMIT.start(),
                DRY_RUN_LIMIT.end(),
                self.dry_run_limit
            )));
        }
        Ok(())
    }
}

impl ScoringConfig {
    /// The `[scoring]` section of `config`, typed and validated.
    pub fn read(config: &Config) -> Result<ScoringConfig, ConfigError> {
        config.section::<ScoringConfig>()
    }

    /// The window ApplyChanges admits changes by.
    pub fn window(&self) -> Window {
        Window {
            days: self.dedupe_retention_days,
        }
    }
}

/// Which change ids ApplyChanges can still tell apart from ones applied
/// before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    days: u32,
}

impl Default for Window {
    fn default() -> Self {
        ScoringConfig::default().window()
    }
}

impl Window {
    /// Whether the change `id` may be applied at `now`: ids without a day
    /// always; a UUIDv7 id dated within the window up to [`FUTURE_DAYS`]
    /// ahead. Otherwise the reason, for its dead letter.
    pub fn admit(&self, id: &str, now: DateTime<Utc>) -> Result<(), String> {
        let Some(day) = day::minted(id) else {
            return Ok(());
        };
        let today = now.date_naive();
        if day < self.first_day(now) {
            return Err(format!(
                "its id dates it to {day}, older than the {}-day dedupe window \
                 (scoring.dedupe_retention_days): it cannot be told apart from one already applied",
                self.days
            ));
        }
        if day > today + TimeDelta::days(FUTURE_DAYS) {
            return Err(format!(
                "its id dates it to {day}, more than {FUTURE_DAYS} days in the future: the \
                 {}-day dedupe window (scoring.dedupe_retention_days) cannot vouch for it",
                self.days
            ));
        }
        Ok(())
    }

    /// The oldest day admitted at `now`.
    pub fn first_day(&self, now: DateTime<Utc>) -> NaiveDate {
        now.date_naive() - TimeDelta::days(self.days as i64)
    }

    /// The oldest day whose rows are kept at `now`: a day before
    /// [`Window::first_day`], for replicas whose clocks differ a little.
    pub fn kept_from(&self, now: DateTime<Utc>) -> NaiveDate {
        self.first_day(now) - TimeDelta::days(1)
    }

    /// When the sentinel day's rows applied before are forgotten at `now`.
    pub fn forget_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - TimeDelta::days(self.days as i64 + 1)
    }
}

/// What one retention pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retired {
    /// Day partitions made (Postgres).
    pub created: usize,
    /// Day partitions dropped (Postgres) or old days' rows deleted (SQLite).
    pub dropped: usize,
    /// Sentinel-day rows deleted.
    pub trimmed: usize,
}

/// The dedupe table's retention, as the refresh worker runs it.
#[derive(Debug, Clone)]
pub struct Dedupe {
    pub(crate) repo: DedupeRepo,
    pub(crate) config: ScoringConfig,
}

impl Dedupe {
    /// One retention pass as of `now`: the partitions from [`BEHIND_DAYS`]
    /// before today to [`AHEAD_DAYS`] after it made, the days past the
    /// window dropped, and at most `dedupe_purge_batch` sentinel rows
    /// applied before the window deleted.
    pub async fn retire(&self, now: DateTime<Utc>) -> sqlx::Result<Retired> {
        let window = self.config.window();
        let today = now.date_naive();
        let days: Vec<NaiveDate> = (-BEHIND_DAYS..=AHEAD_DAYS)
            .map(|d| today + TimeDelta::days(d))
            .collect();
        let created = self.repo.create_days(&days).await?;
        let dropped = self.repo.drop_days_before(window.kept_from(now)).await?;
        let trimmed = self
            .repo
            .trim_sentinel(window.forget_before(now), self.config.dedupe_purge_batch)
            .await?;
        let done = Retired {
            created,
            dropped,
            trimmed,
        };
        if done != Retired::default() {
            tracing::info!(created, dropped, trimmed, "dedupe retention pass");
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;

    /// A "txn:" id minted at `at`.
    fn minted_at(at: DateTime<Utc>) -> String {
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            at.timestamp() as u64,
            at.timestamp_subsec_nanos(),
        );
        format!("txn:{}", Uuid::new_v7(ts))
    }

    #[test]
    fn the_window_admits_its_days_and_refuses_older_and_far_future_ones() {
        let now = Utc.with_ymd_and_hms(2025, 6, 15, 0, 30, 0).unwrap();
        let window = ScoringConfig::default().window();
        let days = |d: i64| now + TimeDelta::days(d);
        for ok in [0, -30, 2, 1] {
            assert_eq!(window.admit(&minted_at(days(ok)), now), Ok(()), "{ok}");
        }
        let old = window.admit(&minted_at(days(-31)), now).unwrap_err();
        assert!(
            old.contains("older than the 30-day dedupe window (scoring.dedupe_retention_days)"),
            "{old}"
        );
        let ahead = window.admit(&minted_at(days(3)), now).unwrap_err();
        assert!(ahead.contains("more than 2 days in the future"), "{ahead}");
        // Ids without a day are always admitted.
        assert_eq!(window.admit("c1", now), Ok(()));
        // Rows are kept a day longer than changes are admitted.
        assert_eq!(
            window.kept_from(now),
            NaiveDate::from_ymd_opt(2025, 5, 15).unwrap()
        );
    }

    #[test]
    fn bad_retention_is_refused_naming_the_field() {
        for days in [0, 1, MAX_RETENTION_DAYS + 1] {
            let config = ScoringConfig {
                dedupe_retention_days: days,
                ..ScoringConfig::default()
            };
            let e = config.validate().unwrap_err().to_string();
            assert!(e.contains("scoring.dedupe_retention_days"), "{e}");
        }
        assert!(ScoringConfig::default().validate().is_ok());
    }

    #[test]
    fn bad_figures_settings_are_refused_naming_the_field() {
        let refused = |config: ScoringConfig| config.validate().unwrap_err().to_string();
        let big = ScoringConfig {
            inline_figures_limit: MAX_INLINE_FIGURES + 1,
            ..ScoringConfig::default()
        };
        assert!(refused(big).contains("scoring.inline_figures_limit"));
        for age in [0, 59, 86_401] {
            let config = ScoringConfig {
                figures_max_age_seconds: age,
                ..ScoringConfig::default()
            };
            assert!(refused(config).contains("scoring.figures_max_age_seconds"));
        }
    }

    #[test]
    fn the_dry_run_limit_is_refused_outside_its_range_naming_the_field() {
        let with = |dry_run_limit| ScoringConfig {
            dry_run_limit,
            ..ScoringConfig::default()
        };
        for bad in [0, 999, 1_000_001] {
            let e = with(bad).validate().unwrap_err().to_string();
            assert!(e.contains("scoring.dry_run_limit"), "{bad}: {e}");
        }
        for good in [1_000, 50_000, 1_000_000] {
            assert!(with(good).validate().is_ok(), "{good}");
        }
    }
}
