//! A firing: recorded once per episode, its actions performed unless they
//! were before, and the control group kept from contact by a fixed hash.

use chrono::{DateTime, Utc};
use rapport_kit::{domain::to_micros, tenants::Tenant};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Compiled, WHAT};
use crate::{
    aggregates::rule_work::EventFacts,
    error::{Error, storage},
    rules::{Rules, env::Bindings, repo::NewFiring},
};

/// Whether (rule, customer) falls in the rule's control group: a fixed hash,
/// so the same customer stays in or out.
fn in_holdout(rule: &str, customer: Uuid, percent: u32) -> bool {
    if percent == 0 {
        return false;
    }
    let digest = Sha256::digest(format!("{rule}:{customer}").as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
    n % 100 < u64::from(percent)
}

impl Rules {
    /// Records a firing (once per episode) and performs its actions unless
    /// they were performed before.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fire(
        &self,
        tenant: &Tenant,
        rule: &Compiled,
        customer: Uuid,
        bindings: &Bindings,
        event: Option<&EventFacts>,
        episode: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let refs = rule.program.references();
        let mut inputs = bindings.inputs(refs.iter());
        if let Some(e) = event {
            inputs.extend(e.data());
        }
        let holdout = in_holdout(&rule.id, customer, rule.def.holdout_percent);
        let (firing, holdout, done) = self
            .evaluation
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
            .map_err(storage(WHAT))?;
        if done {
            return Ok(());
        }
        let results = self
            .perform(
                tenant, rule, customer, episode, event, &inputs, holdout, now,
            )
            .await?;
        self.evaluation
            .set_results(tenant.id, &firing, &results)
            .await
            .map_err(storage(WHAT))
    }
}
