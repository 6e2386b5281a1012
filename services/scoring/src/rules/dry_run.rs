//! DryRunRule: a condition (given, or a stored version's) evaluated over
//! the tenant's customers (of its audience, when it has one) now, without
//! firing anything. Customers are read in pages by id and enriched as
//! GetScore would, with one read per page, plus a profile call per customer
//! only when the condition reads the profile.
//!
//! Whole-tenant work is never done inside one request: at most
//! `scoring.dry_run_limit` customers are read, the first in id order. Ids
//! are hashes, so over a larger tenant those are a uniform random sample;
//! the answer is then `sampled`, its counts the sample's, and its estimates
//! those counts scaled by the share of the id space read
//! ([`super::sample`]). The limit counts customers read, not evaluated, so
//! an audience that skips most of them does not stretch the work; the
//! estimates scale the audience's counts by the same share.

use std::collections::HashMap;

use chrono::Utc;
use rapport_kit::tenants::Tenant;
use rapport_proto::v1::{DryRunMatch, DryRunRuleResponse};

use super::{Rules, editing::parse_definition, env, sample::Scale, validate};
use crate::{aggregates::rule_work::EventFacts, error::Error, scores::assemble};

/// Customers read per page.
const PAGE: u32 = 500;

/// What a dry run evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DryRunOf {
    /// A condition (and an audience, a next-best list or empty) as given.
    Condition {
        /// CEL source.
        condition: String,
        /// As [`super::definition::Definition::audience`].
        audience: String,
    },
    /// The condition of a stored rule's version (the latest for `None`).
    Rule {
        /// Rule id.
        id: String,
        /// Version.
        version: Option<i64>,
    },
}

impl Rules {
    /// DryRunRule: matches listed up to `size`, over at most
    /// `dry_run_limit` customers.
    pub async fn dry_run(
        &self,
        tenant: &Tenant,
        of: DryRunOf,
        size: usize,
    ) -> Result<DryRunRuleResponse, Error> {
        let (condition, audience) = match of {
            DryRunOf::Condition {
                condition,
                audience,
            } => (condition, audience),
            DryRunOf::Rule { id, version } => {
                let version = match version {
                    Some(v) => v,
                    None => self.repo.must_get(tenant.id, &id).await?.latest_version,
                };
                let v = self.repo.version(tenant.id, &id, version).await?;
                let d = parse_definition(&v.definition)?;
                (d.condition, d.audience)
            }
        };
        let program = validate::compile(&condition)
            .map_err(|d| Error::Invalid(validate::to_field_errors(&[d])))?;
        let refs = program.references();
        let profile = env::reads_profile(&program);
        let reads_points = env::reads_points(&program);
        let mut out = DryRunRuleResponse::default();
        let now = Utc::now();
        let event = EventFacts::default().value();
        let lists = self.lists.get(tenant.id).await?;
        let limit = u64::from(self.dry_run_limit);
        let (mut after, mut read) = (None, 0u64);
        while read < limit {
            let want = PAGE.min((limit - read) as u32);
            let page = self.scores.page(tenant.id, after, want).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.row.customer_id);
            read += page.len() as u64;
            let mut scores: Vec<_> = page.iter().map(assemble::stored).collect();
            self.scores.complete(tenant, &mut scores, now).await?;
            let points = match reads_points {
                true => {
                    let ids: Vec<_> = page.iter().map(|s| s.row.customer_id).collect();
                    self.points(tenant.id, &ids, now).await?
                }
                false => HashMap::new(),
            };
            for (s, stored) in scores.iter().zip(&page) {
                let on = lists.of(stored.row.customer_id);
                if !audience.is_empty() && !on.contains(&audience) {
                    continue;
                }
                let held = points
                    .get(&stored.row.customer_id)
                    .copied()
                    .unwrap_or_default();
                // The page's scores carry their tags; only a condition that
                // reads the profile costs a call per customer.
                let mut b = if profile {
                    self.bindings(tenant, s, profile, reads_points, now).await?
                } else {
                    Self::bindings_of_score(tenant, s, &lists, held, now)
                };
                b.0.insert("event", event.clone());
                out.customers_evaluated += 1;
                match program.evaluate_bool(&b.activation()) {
                    Ok(true) => {
                        out.matched += 1;
                        if out.matches.len() < size {
                            out.matches.push(DryRunMatch {
                                customer_id: s.customer_id.clone(),
                                inputs: b.inputs(refs.iter()).into_iter().collect(),
                            });
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        out.errors += 1;
                        if out.first_error.is_empty() {
                            out.first_error = e.to_string();
                        }
                    }
                }
            }
            if page.len() < want as usize {
                break;
            }
        }
        // Stopped at the limit: sampled only if anyone is left unread.
        let scale = match after {
            Some(last)
                if read == limit && !self.scores.page(tenant.id, after, 1).await?.is_empty() =>
            {
                out.sampled = true;
                Scale::sampled(read, last)
            }
            _ => Scale::WHOLE,
        };
        out.estimated_customers = scale.estimate(out.customers_evaluated);
        out.estimated_matched = scale.estimate(out.matched);
        tracing::debug!(read, sampled = out.sampled, "dry run");
        Ok(out)
    }
}
