//! Stored rules, versions, firings and diagnostics in the contract's form.

use std::collections::BTreeMap;

use rapport_kit::domain::{chrono_to_timestamp, from_micros};
use rapport_proto::v1::{Firing, Rule, RuleDiagnostic, RuleVersion};

use crate::{
    error::Error,
    rules::{
        definition::Trigger,
        editing::parse_definition,
        repo::{FiringRow, RuleRecord, VersionRecord},
        validate::Diagnostic,
    },
};

/// The contract's form of a version.
pub fn version(v: &VersionRecord) -> Result<RuleVersion, Error> {
    Ok(RuleVersion {
        version: v.version.clamp(0, u32::MAX as i64) as u32,
        definition: Some(parse_definition(&v.definition)?.to_proto()),
        author: v.author.clone(),
        created_at: Some(chrono_to_timestamp(from_micros(v.created_at))),
        published_at: v.published_at.map(|t| chrono_to_timestamp(from_micros(t))),
    })
}

/// The contract's form of a rule.
pub fn rule(r: &RuleRecord) -> Result<Rule, Error> {
    Ok(Rule {
        id: r.id.clone(),
        name: r.name.clone(),
        latest_version: r.latest_version.clamp(0, u32::MAX as i64) as u32,
        published_version: r.published_version.clamp(0, u32::MAX as i64) as u32,
        enabled: r.enabled,
        latest: Some(version(&r.latest)?),
        created_at: Some(chrono_to_timestamp(from_micros(r.created_at))),
        updated_at: Some(chrono_to_timestamp(from_micros(r.updated_at))),
    })
}

/// The contract's form of a firing.
pub fn firing(f: &FiringRow) -> Firing {
    let inputs: BTreeMap<String, String> = serde_json::from_str(&f.inputs).unwrap_or_default();
    Firing {
        id: f.id.clone(),
        rule_id: f.rule.clone(),
        rule_version: f.version.clamp(0, u32::MAX as i64) as u32,
        customer_id: f.customer.to_string(),
        trigger: Trigger::parse(&f.trigger).map_or(0, |t| t.to_proto() as i32),
        event_kind: f.event_kind.clone(),
        episode: f.episode.clone(),
        fired_at: Some(chrono_to_timestamp(from_micros(f.fired_at))),
        inputs: inputs.into_iter().collect(),
        holdout: f.holdout,
        action_results: serde_json::from_str(&f.results).unwrap_or_default(),
    }
}

/// The contract's form of a problem found in a definition.
pub fn diagnostic(d: Diagnostic) -> RuleDiagnostic {
    RuleDiagnostic {
        field: d.field,
        line: d.line,
        column: d.column,
        message: d.message,
    }
}
