//! One customer against a tenant's published rules: the conditions run on
//! the customer's bindings, edge-triggered (a firing once per episode), and
//! EVENT rules once per event, membership changes included.

mod bindings;
mod fire;
mod membership;

use chrono::{DateTime, Utc};
use rapport_kit::{domain::to_micros, tenants::Tenant};
use rapport_proto::v1::Score;
use rapport_rules::Program;
use uuid::Uuid;

use super::{
    Rules,
    definition::{Definition, Trigger},
    env,
};
use crate::{
    aggregates::rule_work::EventFacts,
    error::{Error, storage},
};

/// What a failure here was reading or writing.
const WHAT: &str = "rule evaluation";

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
        env::reads_profile(&self.program)
    }

    /// Whether the condition reads the loyalty points.
    pub fn reads_points(&self) -> bool {
        env::reads_points(&self.program)
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
    pub(super) fn episode(&self) -> &str {
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

impl Rules {
    /// The tenant's published, enabled rules, compiled.
    pub async fn compiled(&self, tenant: Uuid) -> Result<Vec<Compiled>, Error> {
        let rows = self.repo.published(tenant).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, version, json) in rows {
            let def = super::editing::parse_definition(&json)?;
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
    ) -> Result<(), Error> {
        let customer = Uuid::parse_str(&score.customer_id)
            .map_err(|e| Error::Internal(anyhow::anyhow!("score customer id: {e}")))?;
        let profile = rules.iter().any(Compiled::reads_profile);
        let points = rules.iter().any(Compiled::reads_points);
        let base = self.bindings(tenant, score, profile, points, now).await?;
        let segment = score
            .rfm
            .as_ref()
            .map(|r| r.segment.clone())
            .unwrap_or_default();
        let (known, moves) = self
            .membership_events(tenant.id, customer, &segment, &score.tier, pass)
            .await?;
        events.extend(moves.iter().map(membership::event));
        let at = to_micros(now);
        let on = match rules.iter().any(|r| !r.def.audience.is_empty()) {
            true => self.lists.get(tenant.id).await?.of(customer),
            false => Vec::new(),
        };
        for rule in rules {
            let reached = rule.def.reaches(&on);
            if pass.runs(rule.def.trigger) {
                // Off the rule's audience, the condition does not hold.
                let held = match reached {
                    true => rule.program.evaluate_bool(&base.activation()),
                    false => Ok(false),
                };
                match held {
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
                            .evaluation
                            .mark_matched(tenant.id, &rule.id, customer, pass.episode(), at)
                            .await
                            .map_err(storage(WHAT))?;
                        self.fire(tenant, rule, customer, &base, None, &episode, now)
                            .await?;
                    }
                    Ok(false) => self
                        .evaluation
                        .mark_unmatched(tenant.id, &rule.id, customer, at)
                        .await
                        .map_err(storage(WHAT))?,
                }
            }
            if rule.def.trigger != Trigger::Event || !reached {
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
        if !moves.is_empty() || !known {
            self.evaluation
                .set_membership(tenant.id, customer, &segment, &score.tier, &moves, at)
                .await
                .map_err(storage(WHAT))?;
        }
        Ok(())
    }

    /// Records a condition that failed to evaluate on this customer.
    async fn record_error(
        &self,
        tenant: Uuid,
        rule: &Compiled,
        customer: Uuid,
        at: i64,
        message: &str,
    ) -> Result<(), Error> {
        tracing::debug!(rule = %rule.id, error = message, "rule evaluation failed");
        self.evaluation
            .error(tenant, &rule.id, rule.version, customer, at, message)
            .await
            .map_err(storage(WHAT))
    }
}
