//! One customer against a tenant's published rules: bindings built from the
//! enriched score (and the profile when a rule reads it), segment and tier
//! changes turned into events, edge triggering, holdout, firings recorded and
//! actions performed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_kit::{ApiError, domain::to_micros, tenants::Tenant};
use rapport_proto::v1::{CustomerKind, GetCustomerRequest, Score};
use rapport_rules::Program;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    Rules,
    definition::{Definition, Trigger},
    env::{self, Bindings, EventFacts},
    work::NewFiring,
};
use crate::engine::db_error;

/// A published rule ready to run.
pub struct Compiled {
    /// Rule id.
    pub id: String,
    /// Published version.
    pub version: i64,
    /// Its definition.
    pub def: Definition,
    /// Its condition.
    pub program: Program,
}

impl Compiled {
    /// Whether the condition reads the profile.
    pub fn reads_profile(&self) -> bool {
        self.program
            .references()
            .iter()
            .any(|r| r.starts_with("customer.attributes") || r.starts_with("customer.kind"))
    }
}

/// Why a customer is evaluated, and the episode an edge found now belongs to.
#[derive(Debug, Clone)]
pub enum Pass {
    /// After a score change (score-change and event rules).
    Change(String),
    /// The periodic pass (score-change and schedule rules).
    Schedule(String),
}

impl Pass {
    fn episode(&self) -> &str {
        match self {
            Pass::Change(e) | Pass::Schedule(e) => e,
        }
    }

    fn runs(&self, trigger: Trigger) -> bool {
        matches!(
            (self, trigger),
            (_, Trigger::ScoreChange) | (Pass::Schedule(_), Trigger::Schedule)
        )
    }
}

/// Whether (rule, customer) falls in the rule's control group: a fixed hash,
/// so the same customer stays in or out.
pub fn in_holdout(rule: &str, customer: Uuid, percent: u32) -> bool {
    if percent == 0 {
        return false;
    }
    let digest = Sha256::digest(format!("{rule}:{customer}").as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    n % 100 < u64::from(percent)
}

fn kind_name(kind: i32) -> String {
    CustomerKind::try_from(kind)
        .ok()
        .filter(|k| *k != CustomerKind::Unspecified)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("CUSTOMER_KIND_")
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

impl Rules {
    /// The tenant's published, enabled rules, compiled.
    pub async fn compiled(&self, tenant: Uuid) -> Result<Vec<Compiled>, ApiError> {
        let rows = self.store.published(tenant).await.map_err(db_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, version, json) in rows {
            let def = super::crud::parse_definition(&json)?;
            // Stored rules compiled when saved; one that no longer does (a
            // changed environment) is skipped, not fatal to the others.
            match super::validate::compile(&def.condition) {
                Ok(program) => out.push(Compiled {
                    id,
                    version,
                    def,
                    program,
                }),
                Err(e) => tracing::warn!(rule = %id, error = %e.message, "rule no longer compiles"),
            }
        }
        Ok(out)
    }

    /// Everything but `event`, for one customer.
    pub async fn bindings(
        &self,
        tenant: &Tenant,
        score: &Score,
        profile: bool,
        now: DateTime<Utc>,
    ) -> Result<Bindings, ApiError> {
        let customer = Uuid::parse_str(&score.customer_id)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("score customer id: {e}")))?;
        let (score_v, change_v) = env::score_values(score, tenant.currency.exponent(), now);
        let marks = self
            .work
            .marks(tenant.id, customer)
            .await
            .map_err(db_error)?;
        let (kind, attributes) = if profile {
            self.profile(tenant.id, customer).await?
        } else {
            (String::new(), BTreeMap::new())
        };
        let mut b = BTreeMap::new();
        b.insert("score", score_v);
        b.insert("change", change_v);
        b.insert(
            "customer",
            env::customer_value(&kind, &marks.tags, &attributes),
        );
        b.insert("event", EventFacts::default().value());
        b.insert("today", env::today_value(now));
        Ok(Bindings(b))
    }

    /// The profile's kind and attributes; a customer without a profile has
    /// none.
    async fn profile(
        &self,
        tenant: Uuid,
        customer: Uuid,
    ) -> Result<(String, BTreeMap<String, String>), ApiError> {
        let source = &self.engine.wallets;
        let request = source.internal.request(
            tenant,
            None,
            GetCustomerRequest {
                customer_id: customer.to_string(),
            },
        );
        match source.profiles.clone().get_customer(request).await {
            Ok(r) => {
                let c = r.into_inner().customer.unwrap_or_default();
                Ok((kind_name(c.kind), c.attributes.into_iter().collect()))
            }
            Err(s) if s.code() == tonic::Code::NotFound => Ok((String::new(), BTreeMap::new())),
            Err(s) => Err(ApiError::Unavailable(format!("profiles: {}", s.message()))),
        }
    }

    /// Evaluates one customer (`score` enriched as of `now`) against `rules`
    /// for `pass`, with the change `events` that came with it.
    pub async fn evaluate_customer(
        &self,
        tenant: &Tenant,
        score: &Score,
        rules: &[Compiled],
        mut events: Vec<EventFacts>,
        pass: &Pass,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let customer = Uuid::parse_str(&score.customer_id)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("score customer id: {e}")))?;
        let profile = rules.iter().any(Compiled::reads_profile);
        let base = self.bindings(tenant, score, profile, now).await?;
        let segment = score
            .rfm
            .as_ref()
            .map(|r| r.segment.clone())
            .unwrap_or_default();
        let (known, membership) = self
            .membership_events(tenant.id, customer, &segment, &score.tier, pass)
            .await?;
        events.extend(
            membership
                .iter()
                .map(|(id, kind, value, previous)| EventFacts {
                    id: id.clone(),
                    kind: kind.clone(),
                    segment: if kind.starts_with("segment") {
                        value.clone()
                    } else {
                        String::new()
                    },
                    tier: if kind.starts_with("tier") {
                        value.clone()
                    } else {
                        String::new()
                    },
                    previous: previous.clone(),
                    ..EventFacts::default()
                }),
        );
        let at = to_micros(now);
        for rule in rules {
            if pass.runs(rule.def.trigger) {
                match rule.program.evaluate_bool(&base.activation()) {
                    Err(e) => {
                        self.record_error(tenant.id, rule, customer, at, &e.to_string())
                            .await?
                    }
                    Ok(true) => {
                        // The edge is taken in the database, so of two
                        // evaluations racing (replicas, queue and pass) one
                        // episode wins; a firing whose actions were cut
                        // short is completed here on the next evaluation.
                        let episode = self
                            .work
                            .mark_matched(tenant.id, &rule.id, customer, pass.episode(), at)
                            .await
                            .map_err(db_error)?;
                        self.fire(tenant, rule, customer, &base, None, &episode, now)
                            .await?;
                    }
                    Ok(false) => self
                        .work
                        .mark_unmatched(tenant.id, &rule.id, customer, at)
                        .await
                        .map_err(db_error)?,
                }
            }
            if rule.def.trigger != Trigger::Event {
                continue;
            }
            for event in events.iter().filter(|e| rule.def.listens_to(&e.kind)) {
                let mut b = base.clone();
                b.0.insert("event", event.value());
                match rule.program.evaluate_bool(&b.activation()) {
                    Err(e) => {
                        self.record_error(tenant.id, rule, customer, at, &e.to_string())
                            .await?
                    }
                    Ok(true) => {
                        self.fire(tenant, rule, customer, &b, Some(event), &event.id, now)
                            .await?;
                    }
                    Ok(false) => {}
                }
            }
        }
        if !membership.is_empty() || !known {
            self.work
                .set_membership(tenant.id, customer, &segment, &score.tier, &membership, at)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    async fn record_error(
        &self,
        tenant: Uuid,
        rule: &Compiled,
        customer: Uuid,
        at: i64,
        message: &str,
    ) -> Result<(), ApiError> {
        tracing::debug!(rule = %rule.id, error = message, "rule evaluation failed");
        self.work
            .error(tenant, &rule.id, rule.version, customer, at, message)
            .await
            .map_err(db_error)
    }

    /// Whether a membership is stored, and the entered/left events when the
    /// segment or tier differs from it: (event id, kind, value, previous).
    /// Ids are fixed by the pass, so a retried pass raises the same events.
    async fn membership_events(
        &self,
        tenant: Uuid,
        customer: Uuid,
        segment: &str,
        tier: &str,
        pass: &Pass,
    ) -> Result<(bool, Vec<(String, String, String, String)>), ApiError> {
        let stored = self
            .work
            .membership(tenant, customer)
            .await
            .map_err(db_error)?;
        let known = stored.is_some();
        let (old_segment, old_tier) = stored.unwrap_or_default();
        let mut out = Vec::new();
        for (what, old, new) in [("segment", old_segment, segment), ("tier", old_tier, tier)] {
            if old == new {
                continue;
            }
            let id = |kind: &str| format!("{kind}:{customer}:{}", pass.episode());
            if !old.is_empty() {
                let kind = format!("{what}_left");
                out.push((id(&kind), kind, old.clone(), old.clone()));
            }
            if !new.is_empty() {
                let kind = format!("{what}_entered");
                out.push((id(&kind), kind, new.to_owned(), old.clone()));
            }
        }
        Ok((known, out))
    }

    /// Records a firing (once per episode) and performs its actions unless
    /// they were performed before.
    #[allow(clippy::too_many_arguments)]
    async fn fire(
        &self,
        tenant: &Tenant,
        rule: &Compiled,
        customer: Uuid,
        bindings: &Bindings,
        event: Option<&EventFacts>,
        episode: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let refs = rule.program.references();
        let mut inputs = bindings.inputs(refs.iter());
        if let Some(e) = event {
            inputs.extend(e.data());
        }
        let holdout = in_holdout(&rule.id, customer, rule.def.holdout_percent);
        let (firing, holdout, done) = self
            .work
            .fire(
                tenant.id,
                &NewFiring {
                    rule: &rule.id,
                    version: rule.version,
                    customer,
                    trigger: rule.def.trigger.as_str(),
                    event_kind: event.map_or("", |e| e.kind.as_str()),
                    episode,
                    at: to_micros(now),
                    inputs: &inputs,
                    holdout,
                },
            )
            .await
            .map_err(db_error)?;
        if done {
            return Ok(());
        }
        let results = self
            .perform(
                tenant, rule, customer, episode, event, &inputs, holdout, now,
            )
            .await?;
        self.work
            .set_results(tenant.id, &firing, &results)
            .await
            .map_err(db_error)
    }
}
