//! Segment and tier changes as events: a customer whose segment or tier
//! differs from the one last seen raises `<what>_left` and `<what>_entered`,
//! which EVENT rules listen to.

use uuid::Uuid;

use super::Pass;
use crate::{
    aggregates::rule_work::EventFacts,
    error::{Error, storage},
    rules::Rules,
};

/// A membership event: (event id, kind, value, previous).
pub(super) type Membership = (String, String, String, String);

/// The facts a rule sees of a membership event.
pub(super) fn event((id, kind, value, previous): &Membership) -> EventFacts {
    let value_if = |what: &str| {
        if kind.starts_with(what) {
            value.clone()
        } else {
            String::new()
        }
    };
    EventFacts {
        id: id.clone(),
        kind: kind.clone(),
        segment: value_if("segment"),
        tier: value_if("tier"),
        previous: previous.clone(),
        ..EventFacts::default()
    }
}

impl Rules {
    /// Whether a membership is stored, and the entered/left events when the
    /// segment or tier differs from it. Ids are fixed by the pass, so a
    /// retried pass raises the same events.
    pub(super) async fn membership_events(
        &self,
        tenant: Uuid,
        customer: Uuid,
        segment: &str,
        tier: &str,
        pass: &Pass,
    ) -> Result<(bool, Vec<Membership>), Error> {
        let stored = self
            .evaluation
            .membership(tenant, customer)
            .await
            .map_err(storage("rule evaluation"))?;
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
}
