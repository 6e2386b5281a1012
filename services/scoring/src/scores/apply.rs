//! ApplyChanges: each change checked on its own, the good ones counted once
//! each and folded into the customers' aggregates in one transaction (with
//! the rules' work rows), the new scores published to the cache after the
//! commit. A change that cannot be applied (a bad field, totals past the
//! representable range, an id dated outside the dedupe window) becomes a
//! dead letter and the rest are applied, so
//! one tenant's poison never stalls the relay.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use prost::Message;
use rapport_kit::domain::{self, CurrencyCode};
use rapport_proto::v1::ChangeEvent;
use uuid::Uuid;

use super::{Scores, assemble, refusal};
use crate::{
    aggregates::changes::{self, Change},
    error::{Error, storage},
    feed,
    loyalty::accrual::{Accrue, TierOf},
    repo::dead_letters::Letter,
};

/// Longest customer id kept with a dead letter, in bytes: a bad one is kept
/// as sent up to this.
const MAX_KEPT_CUSTOMER_ID: usize = 128;

/// What became of one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Applied now.
    Applied,
    /// Applied before, or repeated within the call.
    Duplicate,
    /// Kept as a dead letter, for this reason.
    DeadLettered(String),
}

/// What a call did, change by change in request order: the change's id (its
/// dead letter's key for one without a usable id) and its fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// One per change sent.
    pub results: Vec<(String, Fate)>,
}

impl Outcome {
    /// How many changes met `fate` (reasons aside).
    pub fn count(&self, fate: fn(&Fate) -> bool) -> u32 {
        self.results.iter().filter(|(_, f)| fate(f)).count() as u32
    }
}

/// The key a change's dead letter is kept under: its id, or for an id that
/// cannot be one, "invalid:" and a digest of the change, so the same change
/// always lands on the same dead letter.
pub fn letter_key(event: &ChangeEvent) -> String {
    match domain::parse_id(&event.id) {
        Ok(id) => id.to_owned(),
        Err(_) => {
            let digest = Uuid::new_v5(&Uuid::NAMESPACE_OID, &event.encode_to_vec());
            format!("invalid:{}", digest.simple())
        }
    }
}

fn letter(event: &ChangeEvent, reason: String) -> Letter {
    let mut customer_id = event.customer_id.clone();
    if customer_id.len() > MAX_KEPT_CUSTOMER_ID {
        let mut end = MAX_KEPT_CUSTOMER_ID;
        while !customer_id.is_char_boundary(end) {
            end -= 1;
        }
        customer_id.truncate(end);
    }
    Letter {
        change_id: letter_key(event),
        customer_id,
        change: event.encode_to_vec(),
        reason,
    }
}

impl Scores {
    /// Dead-letters the changes dated before the dedupe horizon: the window
    /// admits them (it was raised after their day was dropped), but their
    /// earlier rows may be gone. The horizon is read only when a change is
    /// dated before the days the retention pass always keeps, which it never
    /// is on the relay's usual path.
    async fn refuse_forgotten(
        &self,
        fates: &mut [Option<Fate>],
        at: &mut Vec<usize>,
        good: &mut Vec<Change>,
        now: DateTime<Utc>,
    ) -> sqlx::Result<()> {
        let recent = now.date_naive() - chrono::TimeDelta::days(crate::dedupe::BEHIND_DAYS);
        if !good
            .iter()
            .any(|c| crate::dedupe::day::minted(&c.id).is_some_and(|d| d < recent))
        {
            return Ok(());
        }
        let Some(horizon) = self.repo.dedupe().forgotten_before().await? else {
            return Ok(());
        };
        let mut i = 0;
        while i < good.len() {
            match crate::dedupe::day::minted(&good[i].id) {
                Some(day) if day < horizon => {
                    fates[at[i]] = Some(Fate::DeadLettered(format!(
                        "its id dates it to {day}, before {horizon}, the oldest day the dedupe \
                         table still remembers (older days were dropped under a shorter \
                         scoring.dedupe_retention_days): it cannot be told apart from one \
                         already applied"
                    )));
                    at.remove(i);
                    good.remove(i);
                }
                _ => i += 1,
            }
        }
        Ok(())
    }

    /// Applies `events` for `tenant` in its `currency` as of `now`. Only a
    /// call of too many changes is refused whole; a failure that may pass
    /// (the database unavailable) fails the call so it is sent again.
    pub async fn apply(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        events: &[ChangeEvent],
        now: DateTime<Utc>,
    ) -> Result<Outcome, Error> {
        let checked = changes::validate(events, currency, now).map_err(Error::Invalid)?;
        let mut fates: Vec<Option<Fate>> = vec![None; events.len()];
        let (mut at, mut good, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
        for (i, change) in checked.into_iter().enumerate() {
            // A change whose id is dated outside the dedupe window is
            // refused like a bad field: its earlier row may be gone.
            let change = change.and_then(|c| self.window.admit(&c.id, now).map(|()| c));
            match change {
                Err(reason) => fates[i] = Some(Fate::DeadLettered(reason)),
                // A repeat within the call counts once: the first one.
                Ok(c) if !seen.insert(c.id.clone()) => fates[i] = Some(Fate::Duplicate),
                Ok(c) => {
                    at.push(i);
                    good.push(c);
                }
            }
        }
        self.refuse_forgotten(&mut fates, &mut at, &mut good, now)
            .await
            .map_err(storage("dedupe horizon"))?;
        let mut fresh = HashSet::new();
        match self.try_apply(tenant, currency, &good, now).await? {
            Ok(applied) => fresh = applied,
            // Something in the call cannot be applied: each change on its
            // own, so only the ones at fault are left out.
            Err(_) => {
                for (i, c) in at.iter().zip(&good) {
                    match self
                        .try_apply(tenant, currency, std::slice::from_ref(c), now)
                        .await?
                    {
                        Ok(applied) => fresh.extend(applied),
                        Err(reason) => fates[*i] = Some(Fate::DeadLettered(reason)),
                    }
                }
            }
        }
        for (i, c) in at.iter().zip(&good) {
            if fates[*i].is_none() {
                fates[*i] = Some(if fresh.contains(&c.id) {
                    Fate::Applied
                } else {
                    Fate::Duplicate
                });
            }
        }
        let results: Vec<(String, Fate)> = events
            .iter()
            .zip(fates)
            .map(|(e, f)| (letter_key(e), f.unwrap_or(Fate::Duplicate)))
            .collect();
        let letters: Vec<Letter> = events
            .iter()
            .zip(&results)
            .filter_map(|(e, (_, f))| match f {
                Fate::DeadLettered(reason) => Some(letter(e, reason.clone())),
                _ => None,
            })
            .collect();
        if !letters.is_empty() {
            self.repo
                .dead_letter(tenant, &letters, now)
                .await
                .map_err(storage("dead letter"))?;
            crate::metrics::dead_lettered(tenant, letters.len());
            // Reasons may quote the input: only the count is logged.
            tracing::warn!(%tenant, dead_lettered = letters.len(), "changes dead-lettered");
        }
        Ok(Outcome { results })
    }

    /// Applies `changes` in one transaction and publishes the new scores;
    /// the ids applied for the first time, or why the changes cannot be
    /// applied together (nothing written then).
    async fn try_apply(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        changes: &[Change],
        now: DateTime<Utc>,
    ) -> Result<Result<HashSet<String>, String>, Error> {
        if changes.is_empty() {
            return Ok(Ok(HashSet::new()));
        }
        let programme = self.loyalty.programme(tenant).await?;
        let programme = programme.filter(|p| !p.terms.paused);
        let tiers = programme.as_ref().is_some_and(|p| p.terms.uses_tiers());
        // The feed compares each score before and after with the state
        // reads use now, and tier multipliers need each customer's tier
        // before the call; otherwise the state is not needed here.
        let state = match self.feed || tiers {
            true => Some(self.states.get(tenant).await?),
            false => None,
        };
        let log = |old: &[_], new: &[_]| match &state {
            Some(state) => feed::log_rows(state, currency, old, new, now),
            None => Vec::new(),
        };
        let log: Option<&crate::repo::Log<'_>> = (self.feed && state.is_some()).then_some(&log);
        let tier_of = |s: &crate::repo::StoredScore| match &state {
            Some(state) => feed::tier(s, state, currency, now),
            None => String::new(),
        };
        let accrue = programme.as_deref().map(|programme| Accrue {
            programme,
            currency: currency.as_str(),
            exponent: currency.exponent(),
            tier: tiers.then_some(&tier_of as &TierOf<'_>),
        });
        let applied = match self
            .repo
            .apply(
                crate::repo::Batch {
                    tenant,
                    currency: currency.as_str(),
                    now,
                    log,
                    points: accrue.as_ref(),
                },
                changes,
            )
            .await
        {
            Ok(applied) => applied,
            Err(e) => {
                return match refusal::reason(&e) {
                    Some(reason) => Ok(Err(reason)),
                    None => Err(storage("score")(e)),
                };
            }
        };
        // After commit: a cached score is never ahead of the database.
        let scores: Vec<_> = applied.scores.iter().map(assemble::stored).collect();
        self.cache.publish(tenant, &scores).await;
        tracing::debug!(
            applied = applied.fresh.len(),
            customers = scores.len(),
            "changes applied"
        );
        Ok(Ok(applied.fresh))
    }
}
