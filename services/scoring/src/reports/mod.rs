//! Reports (ReportsService): runs queued by StartReport or by the schedule,
//! each a job a worker leases and runs in one pass over the tenant's scores
//! and profiles, merged in customer order page by page; the result stored
//! for GetReport. Requests never scan a tenant.

pub mod affinity;
pub mod compute;
mod cross_sell;
pub mod grpc;
pub mod repo;

use std::{
    collections::{HashMap, VecDeque},
    time::Duration,
};

use chrono::{DateTime, Utc};
use prost::Message;
use rapport_kit::{
    ApiError, Authenticator,
    config::{ConfigError, Section},
    domain::{CurrencyCode, chrono_to_timestamp},
};
use rapport_proto::v1::{Customer, Report, ReportRun, ReportRunState, StartReportRequest};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use self::{
    affinity::{Counter, CrossSell, MAX_CATEGORIES},
    compute::{Builder, Facts, Upsell, UpsellFacts, age_band, default_rankings},
    repo::{ReportRepo, Run, State},
};
use crate::{
    calendar::month_index,
    error::{Error, storage},
    profiles::{Profiles, kind_name},
    repo::StoredScore,
    scores::{Scores, assemble},
    value::{
        blocking,
        histories::major,
        measures::{measures, rfm_values},
    },
};

/// The reports' settings (`[reports]`, `RAPPORT_REPORTS__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// A tenant whose latest run was queued longer ago than this gets a run
    /// queued by the refresh worker; 0 turns the schedule off.
    pub interval_hours: u32,
    /// Pause between looks for queued runs, in milliseconds.
    pub poll_interval_ms: u64,
    /// Finished runs are kept this many days (each tenant's latest
    /// successful one always).
    pub retention_days: u32,
    /// Fewest customers who bought both categories of a pair for the pair
    /// to count in the category affinity (and the cross-sell list).
    pub affinity_min_customers: u64,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            interval_hours: 24,
            poll_interval_ms: 1_000,
            retention_days: 90,
            affinity_min_customers: affinity::MIN_PAIR_CUSTOMERS,
        }
    }
}

impl Section for ReportsConfig {
    const NAME: &'static str = "reports";

    fn validate(&self) -> Result<(), ConfigError> {
        if !(100..=600_000).contains(&self.poll_interval_ms) {
            return Err(ConfigError::Invalid(
                "reports.poll_interval_ms must be within 100..=600000".to_owned(),
            ));
        }
        if self.affinity_min_customers == 0 {
            return Err(ConfigError::Invalid(
                "reports.affinity_min_customers must be at least 1".to_owned(),
            ));
        }
        if self.retention_days == 0 {
            return Err(ConfigError::Invalid(
                "reports.retention_days must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Customers read per page, from each side of the merge.
const PAGE: u32 = 500;
/// A worker's lease on a run; renewed with every page.
const LEASE: Duration = Duration::from_secs(120);

/// The reports: their runs, and the worker that runs them.
#[derive(Clone)]
pub struct Reports {
    pub(crate) repo: ReportRepo,
    pub(crate) scores: Scores,
    pub(crate) profiles: Profiles,
    pub(crate) auth: Authenticator,
    pub(crate) config: ReportsConfig,
    /// This replica's lease owner id.
    owner: Uuid,
}

/// A run as the API shows it.
pub fn run_proto(r: &Run) -> ReportRun {
    let ts = |t: Option<DateTime<Utc>>| t.map(chrono_to_timestamp);
    ReportRun {
        run_id: r.run_id.to_string(),
        state: match r.state {
            State::Queued => ReportRunState::Queued,
            State::Running => ReportRunState::Running,
            State::Succeeded => ReportRunState::Succeeded,
            State::Failed => ReportRunState::Failed,
        } as i32,
        queued_at: Some(chrono_to_timestamp(r.queued_at)),
        started_at: ts(r.started_at),
        finished_at: ts(r.finished_at),
        customers_done: r.customers_done.max(0) as u64,
        customers_expected: r.customers_expected.max(0) as u64,
        error: r.error.clone(),
        origin: r.origin.clone(),
    }
}

impl Reports {
    pub fn new(
        repo: ReportRepo,
        scores: Scores,
        profiles: Profiles,
        auth: Authenticator,
        config: ReportsConfig,
    ) -> Reports {
        Reports {
            repo,
            scores,
            profiles,
            auth,
            config,
            owner: Uuid::new_v4(),
        }
    }

    /// The pause between the worker's looks for queued runs.
    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.config.poll_interval_ms)
    }

    /// Queues a run for every tenant due under the schedule, and deletes
    /// runs past retention; the runs queued.
    pub async fn schedule(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        let retire = now - chrono::Duration::days(self.config.retention_days as i64);
        self.repo
            .retire(retire)
            .await
            .map_err(storage("report run"))?;
        if self.config.interval_hours == 0 {
            return Ok(0);
        }
        let since = now - chrono::Duration::hours(self.config.interval_hours as i64);
        let due = self.repo.due(since).await.map_err(storage("report run"))?;
        let request = StartReportRequest::default().encode_to_vec();
        let mut queued = 0;
        for tenant in due {
            let id = format!("schedule:{}", Uuid::now_v7());
            let started = self
                .repo
                .start(tenant, &id, "schedule", &request, now)
                .await;
            if let repo::Started::Queued(_) = started.map_err(storage("report run"))? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Runs every queued run, one after the other, until none is left or
    /// `stop` says so; the runs ended.
    pub async fn run_queued(&self, stop: impl Fn() -> bool) -> Result<usize, Error> {
        let mut ran = 0;
        while !stop() {
            let now = Utc::now();
            let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
            let claimed = self.repo.claim(self.owner, now, until).await;
            let Some(run) = claimed.map_err(storage("report run"))? else {
                break;
            };
            let outcome = self.run(&run).await;
            let now = Utc::now();
            let recorded = match &outcome {
                Ok(Some((report, done))) => {
                    let bytes = report.encode_to_vec();
                    let stored = self
                        .repo
                        .finish(&run, self.owner, Ok((&bytes, *done)), now)
                        .await;
                    // A customer erased while the run went may be in it, and
                    // the erasure's own pass over stored reports may have
                    // come before this one was stored. Checked after storing,
                    // so one of the two always sees the other.
                    if let Ok(true) = stored {
                        self.scrub_erased(run.tenant, run.run_id, report.clone())
                            .await?;
                    }
                    stored
                }
                Ok(None) => Ok(false),
                Err(e) => {
                    tracing::warn!(error = %e, tenant = %run.tenant, run = %run.run_id, "report run failed");
                    self.repo
                        .finish(&run, self.owner, Err(&e.to_string()), now)
                        .await
                }
            };
            if !recorded.map_err(storage("report run"))? {
                tracing::info!(run = %run.run_id, "report run was taken over by another worker");
            }
            ran += 1;
        }
        Ok(ran)
    }

    /// One run: the tenant's customers merged from both sides in id order,
    /// each added to the report once; with the scores passed. `None` when
    /// the lease was lost to another worker.
    async fn run(&self, run: &Run) -> Result<Option<(Report, i64)>, Error> {
        let tenant = match self.auth.tenant_by_id(run.tenant).await {
            Ok(t) => t,
            Err(s) => {
                return Err(Error::Unavailable(format!(
                    "tenant lookup: {}",
                    s.message()
                )));
            }
        };
        let c = tenant.currency;
        let request = StartReportRequest::decode(run.request.as_slice()).unwrap_or_default();
        let mut rankings = default_rankings();
        rankings.extend(request.rankings);
        let now = Utc::now();
        let state = self.scores.states.get(run.tenant).await?;
        let expected = self
            .scores
            .repo
            .count(run.tenant)
            .await
            .map_err(storage("score"))?;
        let mut builder = Builder::new(c, now, rankings);
        // The categories with the most buyers, chosen up front so the pairs
        // are counted in one pass in bounded memory (see `affinity`).
        let held = (self.scores.repo)
            .top_categories(run.tenant, MAX_CATEGORIES as u32)
            .await
            .map_err(storage("customer category"))?;
        let mut counter = Counter::new(held, self.config.affinity_min_customers);
        let mut merge = Merge::default();
        let mut done = 0i64;
        loop {
            if merge.profiles.is_empty() && !merge.profiles_done {
                let page = self
                    .profiles
                    .customers(run.tenant, &merge.token, PAGE as i32)
                    .await?;
                merge.profiles_done = page.next_page_token.is_empty();
                merge.token = page.next_page_token;
                merge.profiles.extend(page.customers);
            }
            if merge.scores.is_empty() && !merge.scores_done {
                let page = self.scores.page(run.tenant, merge.after, PAGE).await?;
                merge.scores_done = page.len() < PAGE as usize;
                merge.after = page.last().map(|s| s.row.customer_id).or(merge.after);
                done += page.len() as i64;
                if !counter.is_empty() {
                    for (_, bought) in
                        cross_sell::by_customer(&self.categories(run.tenant, &page).await?)
                    {
                        counter.add(bought);
                    }
                }
                let (state, page) = (state.clone(), page);
                // The models run for every customer: off the async workers.
                let measured = blocking(move || {
                    page.into_iter()
                        .map(|s| scored(&s, &state, c, now))
                        .collect::<Vec<_>>()
                })
                .await?;
                merge.scores.extend(measured);
                let until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
                let held = self
                    .repo
                    .progress(run, self.owner, done, expected, until)
                    .await;
                if !held.map_err(storage("report run"))? {
                    return Ok(None);
                }
            }
            let Some(facts) = merge.next(now) else { break };
            builder.add(&facts);
        }
        // The up-sell list compares each buyer with the peers' medians, known
        // only now: a second, cheaper pass over the scores (no model runs).
        // So does the cross-sell list, with the category affinity.
        let peers = builder.peers();
        let affinity = counter.finish();
        let mut upsell = Upsell::default();
        let mut cross_sell = CrossSell::default();
        if state.breakpoints.is_some() || !affinity.is_empty() {
            let mut after = None;
            loop {
                let page = self.scores.page(run.tenant, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.row.customer_id);
                if let Some(breakpoints) = &state.breakpoints {
                    for s in &page {
                        if let Some(u) = upsell_facts(s, breakpoints, c, now) {
                            upsell.offer(&u, &peers);
                        }
                    }
                }
                if !affinity.is_empty() {
                    self.offer_cross_sell(run.tenant, &page, &affinity, &mut cross_sell, c, now)
                        .await?;
                }
                let until = Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
                let held = self
                    .repo
                    .progress(run, self.owner, done, expected, until)
                    .await;
                if !held.map_err(storage("report run"))? {
                    return Ok(None);
                }
            }
        }
        let mut names = HashMap::new();
        for id in upsell.customers().into_iter().chain(cross_sell.customers()) {
            if names.contains_key(&id) {
                continue;
            }
            names.insert(id, self.profiles.display_name(run.tenant, id).await?);
        }
        let mut report = builder.finish();
        report.model_version = state.fit.as_ref().map_or(0, |f| f.version.max(0) as u64);
        report.upsell = upsell.finish(&names, c);
        report.upsell_peers = peers.to_proto(c);
        report.category_affinity = affinity.to_proto();
        report.category_buyers = affinity.customers;
        report.cross_sell = cross_sell.finish(&names, c);
        Ok(Some((report, done)))
    }
}

impl Reports {
    /// A run and, once it succeeded, its report.
    pub async fn get(
        &self,
        tenant: Uuid,
        run_id: Option<Uuid>,
    ) -> Result<(Run, Option<Report>), ApiError> {
        let found = match run_id {
            Some(id) => self.repo.get(tenant, id).await,
            None => self.repo.latest(tenant).await,
        };
        let Some((run, bytes)) = found.map_err(storage("report run"))? else {
            return Err(Error::NotFound {
                what: "report run",
                id: run_id.map_or_else(|| "(latest succeeded)".to_owned(), |i| i.to_string()),
            }
            .into());
        };
        let report = match bytes {
            Some(b) => Some(Report::decode(b.as_slice()).map_err(|e| {
                Error::Internal(anyhow::anyhow!(
                    "stored report {} unreadable: {e}",
                    run.run_id
                ))
            })?),
            None => None,
        };
        Ok((run, report))
    }
}

impl Reports {
    /// Replaces `customer` with `erasure` in every stored report of the
    /// tenant (rankings, next-best lists, a parent-account row); the reports
    /// changed.
    /// Idempotent: a second pass finds nothing to replace.
    pub async fn erase_customer(
        &self,
        tenant: Uuid,
        customer: Uuid,
        erasure: Uuid,
    ) -> Result<u64, ApiError> {
        // Recorded first: a run in flight that read the customer checks
        // here after it has stored its report (see `run_queued`).
        let hash = customer_hash(tenant, customer);
        (self
            .repo
            .note_erased(tenant, &hash, erasure, Utc::now())
            .await)
            .map_err(storage("erased customer"))?;
        let (from, to) = (customer.to_string(), erasure.to_string());
        let mut changed = 0;
        let ids = self
            .repo
            .with_reports(tenant)
            .await
            .map_err(storage("report run"))?;
        for run_id in ids {
            let Some((_, Some(bytes))) = self
                .repo
                .get(tenant, run_id)
                .await
                .map_err(storage("report run"))?
            else {
                continue;
            };
            let Ok(mut report) = Report::decode(bytes.as_slice()) else {
                continue;
            };
            if scrub(&mut report, &from, &to) {
                let bytes = report.encode_to_vec();
                (self.repo.replace_report(tenant, run_id, &bytes).await)
                    .map_err(storage("report run"))?;
                changed += 1;
            }
        }
        Ok(changed)
    }
}

/// The hash an erased customer is recorded under: SHA-256 of
/// "<tenant>:<customer>", in hex.
pub fn customer_hash(tenant: Uuid, customer: Uuid) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(format!("{tenant}:{customer}")))
}

/// Every customer id `report` names (rankings, next-best lists, breakdown
/// rows that are ids).
fn named_ids(report: &Report) -> Vec<Uuid> {
    let ranked = report
        .rankings
        .iter()
        .flat_map(|r| &r.customers)
        .map(|c| &c.customer_id);
    let listed = report
        .reactivation
        .iter()
        .chain(&report.upsell)
        .chain(&report.cross_sell)
        .map(|e| &e.customer_id);
    let rows = report
        .breakdowns
        .iter()
        .flat_map(|b| &b.rows)
        .map(|r| &r.value);
    ranked
        .chain(listed)
        .chain(rows)
        .filter_map(|id| id.parse().ok())
        .collect()
}

impl Reports {
    /// Replaces every one of the tenant's erased customers that `report`,
    /// just stored as run `run_id`'s, names.
    async fn scrub_erased(
        &self,
        tenant: Uuid,
        run_id: Uuid,
        mut report: Report,
    ) -> Result<(), Error> {
        let erased: HashMap<String, Uuid> = (self.repo.erased(tenant).await)
            .map_err(storage("erased customer"))?
            .into_iter()
            .collect();
        if erased.is_empty() {
            return Ok(());
        }
        let mut changed = false;
        for customer in named_ids(&report) {
            if let Some(erasure) = erased.get(&customer_hash(tenant, customer)) {
                changed |= scrub(&mut report, &customer.to_string(), &erasure.to_string());
            }
        }
        if changed {
            let bytes = report.encode_to_vec();
            (self.repo.replace_report(tenant, run_id, &bytes).await)
                .map_err(storage("report run"))?;
        }
        Ok(())
    }
}

/// Replaces customer id `from` with `to` in `report` (rankings, next-best
/// lists, a parent-account row), blanking the name shown with it; whether
/// anything changed.
fn scrub(report: &mut Report, from: &str, to: &str) -> bool {
    let mut changed = false;
    for ranked in report
        .rankings
        .iter_mut()
        .flat_map(|r| r.customers.iter_mut())
    {
        if ranked.customer_id == from {
            ranked.customer_id = to.to_owned();
            ranked.display_name.clear();
            changed = true;
        }
    }
    let lists = report
        .reactivation
        .iter_mut()
        .chain(report.upsell.iter_mut())
        .chain(report.cross_sell.iter_mut());
    for entry in lists {
        if entry.customer_id == from {
            entry.customer_id = to.to_owned();
            entry.display_name.clear();
            changed = true;
        }
    }
    for row in report.breakdowns.iter_mut().flat_map(|b| b.rows.iter_mut()) {
        if row.value == from {
            row.value = to.to_owned();
            changed = true;
        }
    }
    changed
}

/// Both sides of the merge: pages of profiles and of measured scores, each
/// in customer id order.
#[derive(Default)]
struct Merge {
    profiles: VecDeque<Customer>,
    token: String,
    profiles_done: bool,
    scores: VecDeque<Facts>,
    after: Option<Uuid>,
    scores_done: bool,
}

impl Merge {
    /// The next customer in id order, from whichever side has it (both when
    /// both do); `None` at the end. Each side must be refilled before, when
    /// its buffer is empty and it is not done.
    fn next(&mut self, now: DateTime<Utc>) -> Option<Facts> {
        let id = |c: &Customer| c.id.parse::<Uuid>().unwrap_or_default();
        let profile = self.profiles.front().map(id);
        let score = self.scores.front().map(|s| s.customer_id);
        match (profile, score) {
            (None, None) => None,
            (Some(p), s) if s.is_none_or(|s| p <= s) => {
                let customer = self.profiles.pop_front()?;
                let mut facts = match s {
                    Some(s) if s == p => self.scores.pop_front()?,
                    _ => Facts {
                        customer_id: p,
                        dimensions: std::array::from_fn(|i| {
                            if i >= 5 {
                                "none".to_owned()
                            } else {
                                String::new()
                            }
                        }),
                        ..Facts::default()
                    },
                };
                profile_dimensions(&mut facts, &customer, now);
                Some(facts)
            }
            _ => {
                // A score without a profile (the profile was deleted).
                let mut facts = self.scores.pop_front()?;
                for d in &mut facts.dimensions[..5] {
                    *d = "unknown".to_owned();
                }
                facts.dimensions[9] = "none".to_owned();
                Some(facts)
            }
        }
    }
}

/// Fills the profile's dimensions and name into `facts`.
fn profile_dimensions(facts: &mut Facts, p: &Customer, now: DateTime<Utc>) {
    let attribute = |k: &str| {
        p.attributes
            .get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map_or_else(|| "unknown".to_owned(), str::to_owned)
    };
    facts.display_name = p.display_name.clone();
    facts.dimensions[0] = attribute("region");
    facts.dimensions[1] = attribute("industry");
    facts.dimensions[2] = age_band(
        p.attributes.get("birth_date").map(String::as_str),
        now.date_naive(),
    )
    .to_owned();
    facts.dimensions[3] = attribute("gender").to_lowercase();
    let kind = kind_name(p.kind);
    facts.dimensions[4] = if kind.is_empty() {
        "unknown".to_owned()
    } else {
        kind
    };
    facts.dimensions[9] = if p.parent_id.is_empty() {
        "none".to_owned()
    } else {
        p.parent_id.clone()
    };
}

/// What the up-sell list reads of a stored score: its RFM frequency score
/// against the population's `breakpoints`, average order value and recent
/// purchases. `None` without a purchase.
fn upsell_facts(
    s: &StoredScore,
    breakpoints: &rapport_science::Breakpoints,
    c: CurrencyCode,
    now: DateTime<Utc>,
) -> Option<UpsellFacts> {
    let r = &s.row;
    if r.purchase_count <= 0 {
        return None;
    }
    let recency = r
        .last_purchase_at
        .map_or(0, |t| (now - t).num_days().max(0) as u32);
    let values = rfm_values(recency, r.purchase_count as u64, r.net_spend(), c);
    let frequency = rapport_science::assess(&values, breakpoints)
        .ok()?
        .scores
        .frequency;
    let this_month = month_index(now);
    let recent = s
        .months
        .iter()
        .filter_map(|m| Some((crate::calendar::month_index_of_key(&m.month)?, m.purchases)))
        .filter(|(m, _)| this_month - m < 12 && *m <= this_month)
        .map(|(_, p)| p.max(0) as u64)
        .sum();
    Some(UpsellFacts {
        customer_id: r.customer_id,
        frequency,
        order_value: major(r.purchase_total_minor, c) / r.purchase_count as f64,
        purchases_last_12_months: recent,
        purchases: r.purchase_count as u64,
        days_since_last_purchase: recency,
    })
}

/// A stored score's facts, measured as GetScore would show them at `now`
/// (the profile's dimensions are filled in by the merge).
fn scored(
    s: &StoredScore,
    state: &crate::value::tenant_state::TenantState,
    c: CurrencyCode,
    now: DateTime<Utc>,
) -> Facts {
    let mut score = assemble::stored(s);
    assemble::finish(&mut score, now);
    let m = measures(&score, state, c, now);
    let none = || "none".to_owned();
    let tier = match score.basis.as_ref().and_then(|b| b.tier_override.clone()) {
        Some(set) => set,
        None => m.tier.as_ref().map_or_else(none, |t| t.tier.clone()),
    };
    let basis = score.basis.unwrap_or_default();
    let months = basis
        .months
        .iter()
        .zip(&basis.month_net_minor)
        .zip(&basis.month_margin_minor)
        .zip(&basis.month_purchases)
        .map(|(((m, n), g), p)| (*m, *n, *g, *p))
        .collect();
    let mut dimensions: [String; 10] = Default::default();
    dimensions[5] = tier;
    dimensions[6] = m
        .rfm
        .as_ref()
        .map_or_else(none, |r| r.segment.name().to_owned());
    dimensions[7] = if score.segment.is_empty() || score.segment == "none" {
        none()
    } else {
        score.segment.clone()
    };
    dimensions[8] = s
        .row
        .first_purchase_at
        .map_or_else(none, |t| compute::month_key(month_index(t)));
    Facts {
        customer_id: s.row.customer_id,
        display_name: String::new(),
        dimensions,
        purchases: s.row.purchase_count.max(0) as u64,
        net_minor: s.row.net_spend(),
        margin_minor: s.row.margin_total_minor,
        monthly_profit: m.profit.as_ref().map(|p| p.trailing_12_month_average),
        lifetime_value: m.prediction.as_ref().map(|p| p.lifetime.total),
        past_value: m.past_value,
        probability_alive: m.prediction.as_ref().map(|p| p.probability_alive),
        wallet: m.wallet,
        rfm: m
            .rfm
            .as_ref()
            .map(|r| (r.scores.recency, r.scores.frequency)),
        recency_days: (s.row.purchase_count > 0).then_some(score.recency_days),
        order_value: (s.row.purchase_count > 0)
            .then(|| major(s.row.purchase_total_minor, c) / s.row.purchase_count as f64),
        first_month: s.row.first_purchase_at.map(month_index),
        months,
    }
}

#[cfg(test)]
mod tests {
    use rapport_proto::v1::{Breakdown, BreakdownRow, ListEntry, RankedCustomer, Ranking};

    use super::*;

    #[test]
    fn an_erasure_replaces_the_customer_everywhere_a_report_names_them() {
        let (from, to) = ("c-1", "e-1");
        let named = |id: &str| ListEntry {
            customer_id: id.into(),
            display_name: "Ann".into(),
            ..Default::default()
        };
        let mut report = Report {
            rankings: vec![Ranking {
                customers: vec![RankedCustomer {
                    customer_id: from.into(),
                    display_name: "Ann".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            reactivation: vec![named(from), named("c-2")],
            upsell: vec![named(from)],
            cross_sell: vec![named("c-3"), named(from)],
            breakdowns: vec![Breakdown {
                rows: vec![BreakdownRow {
                    value: from.into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(scrub(&mut report, from, to));
        let text = format!("{report:?}");
        assert!(!text.contains(from), "{text}");
        assert_eq!(report.reactivation[0].customer_id, to);
        assert_eq!(report.reactivation[0].display_name, "");
        assert_eq!(report.reactivation[1].display_name, "Ann", "others stay");
        assert_eq!(report.upsell[0].customer_id, to);
        assert_eq!(report.cross_sell[1].customer_id, to);
        assert_eq!(report.cross_sell[1].display_name, "");
        assert_eq!(report.cross_sell[0].display_name, "Ann", "others stay");
        assert_eq!(report.breakdowns[0].rows[0].value, to);
        assert!(
            !scrub(&mut report, from, to),
            "nothing left the second time"
        );
    }
}
