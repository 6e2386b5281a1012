//! What the audit trail says of scoring's changes: targets and short
//! before/after summaries of settings and rules (names, versions, flags;
//! never a rule's condition or actions in full).

use rapport_kit::audit;
use rapport_proto::v1::{Rule, ScoringSettings};
use serde_json::{Value, json};

/// The audit target of the tenant's scoring settings.
pub const SETTINGS: &str = "settings";

/// The fields of the settings that changed, before and after; the version
/// and the time of the change are the event's own.
pub fn settings(before: &ScoringSettings, after: &ScoringSettings) -> Value {
    let name = "rapport.v1.ScoringSettings";
    let (b, a) = (
        audit::proto_json(name, before),
        audit::proto_json(name, after),
    );
    let mut summary = audit::diff(&b, &a, &["updatedAt", "version"]);
    summary["before"]["version"] = json!(before.version);
    summary["after"]["version"] = json!(after.version);
    summary
}

/// The audit target of a rule.
pub fn rule_target(rule: &Rule) -> String {
    format!("rule:{}", rule.id)
}

/// A rule as the trail shows it, before or after a change.
fn rule_state(rule: &Rule) -> Value {
    json!({
        "name": rule.name,
        "latest_version": rule.latest_version,
        "published_version": rule.published_version,
        "enabled": rule.enabled,
    })
}

/// A new rule.
pub fn rule_created(rule: &Rule) -> Value {
    json!({ "before": null, "after": rule_state(rule) })
}

/// A rule changed from `before` (read just before the change) to `after`.
pub fn rule_changed(before: &Rule, after: &Rule) -> Value {
    json!({ "before": rule_state(before), "after": rule_state(after) })
}
