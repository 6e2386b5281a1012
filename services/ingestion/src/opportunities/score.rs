//! The pure part of a refit: fold the events, score the opportunities,
//! explain each score, roll them up. No I/O.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rapport_science::pipeline::{AccountRecord, Outcome, PipelineModel};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    fold::{Folded, days, fold},
    store::{EventRow, OpportunityRow, RollupRow},
};

/// Why an opportunity has its probability; stored as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Explanation {
    pub stage: String,
    pub stage_probability: f64,
    pub age_days: f64,
    pub typical_days: f64,
    pub stays_as_long: u32,
    pub age_adjusted_probability: f64,
    pub account_won: u32,
    pub account_lost: u32,
    pub account_win_rate: f64,
    pub tenant_win_rate: f64,
    pub account_odds_factor: f64,
    pub text: String,
}

/// The model's figures, as GetPipeline shows them; stored as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ModelFigures {
    pub won: u32,
    pub lost: u32,
    pub tenant_win_rate: f64,
    pub thin_history: String,
    pub stages: Vec<StageFigure>,
}

/// One stage's figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct StageFigure {
    pub stage: String,
    pub exits: u32,
    pub exits_won: u32,
    pub exits_lost: u32,
    pub win_probability: f64,
    pub typical_days: f64,
    pub open_now: u32,
}

/// Folds the events (sorted by opportunity, then time) opportunity by opportunity.
pub(crate) fn fold_all(events: &[EventRow]) -> Vec<Folded> {
    events
        .chunk_by(|a, b| a.source == b.source && a.opportunity_ref == b.opportunity_ref)
        .filter_map(fold)
        .collect()
}

/// Each opportunity's snapshot row as of `now`.
pub(crate) fn score_all(
    model: &PipelineModel,
    folded: &[Folded],
    now: DateTime<Utc>,
) -> Vec<OpportunityRow> {
    let mut records: HashMap<Uuid, AccountRecord> = HashMap::new();
    for f in folded {
        let r = records.entry(f.customer).or_default();
        match f.deal.outcome {
            Outcome::Won(_) => r.won += 1,
            Outcome::Lost(_) => r.lost += 1,
            Outcome::Open => {}
        }
    }
    folded
        .iter()
        .map(|f| {
            let (probability, ev, explanation) = match f.status {
                "won" => (Some(1.0), f.amount_minor, closed("won")),
                "lost" => (Some(0.0), 0, closed("lost")),
                _ => {
                    let record = records.get(&f.customer).copied().unwrap_or_default();
                    let age = days(now) - days(f.stage_entered_at);
                    let e = explain(model, &f.stage, age, record);
                    let p = model.assess(&f.stage, age, record).probability;
                    let ev = p.map_or(0, |p| (p * f.amount_minor as f64).round() as i64);
                    (p, ev, e)
                }
            };
            OpportunityRow {
                customer: f.customer,
                source: f.source.clone(),
                opportunity_ref: f.opportunity_ref.clone(),
                status: f.status.to_owned(),
                stage: f.stage.clone(),
                amount_minor: f.amount_minor,
                expected_close: f.expected_close,
                opened_at: f.opened_at,
                stage_entered_at: f.stage_entered_at,
                closed_at: f.closed_at,
                probability,
                expected_value_minor: ev,
                explanation: serde_json::to_string(&explanation).unwrap_or_default(),
            }
        })
        .collect()
}

fn closed(status: &str) -> Explanation {
    Explanation {
        text: format!("{status}: closed"),
        ..Explanation::default()
    }
}

fn explain(model: &PipelineModel, stage: &str, age: f64, account: AccountRecord) -> Explanation {
    let a = model.assess(stage, age, account);
    let base = if a.stage_fallback {
        format!(
            "stage {stage:?}: no past opportunity has left it yet, so the tenant's win rate {:.0}% stands in",
            model.win_rate * 100.0
        )
    } else {
        format!(
            "stage {stage:?} ends won {:.0}% of the time",
            a.stage_probability * 100.0
        )
    };
    let text = match a.probability {
        None => format!(
            "{base}; no probability: the history is too thin ({})",
            model.thin.as_deref().unwrap_or_default()
        ),
        Some(p) => format!(
            "{base}; {age:.0} days in it against a typical {typical:.0}, and {n} past stays lasted as long: {adj:.0}%; \
             the account won {w} and lost {l} (shrunk rate {rate:.0}% against the tenant's {pi:.0}%), \
             odds ×{factor:.2}: {p:.0}%",
            age = a.age,
            typical = a.typical,
            n = a.stays_as_long,
            adj = a.age_adjusted * 100.0,
            w = account.won,
            l = account.lost,
            rate = a.account_rate * 100.0,
            pi = model.win_rate * 100.0,
            factor = a.account_factor,
            p = p * 100.0,
        ),
    };
    Explanation {
        stage: stage.to_owned(),
        stage_probability: a.stage_probability,
        age_days: a.age,
        typical_days: a.typical,
        stays_as_long: a.stays_as_long,
        age_adjusted_probability: a.age_adjusted,
        account_won: account.won,
        account_lost: account.lost,
        account_win_rate: a.account_rate,
        tenant_win_rate: model.win_rate,
        account_odds_factor: a.account_factor,
        text,
    }
}

/// The distinct accounts, in order.
pub(crate) fn accounts(rows: &[OpportunityRow]) -> Vec<Uuid> {
    let mut a: Vec<Uuid> = rows.iter().map(|r| r.customer).collect();
    a.sort_unstable();
    a.dedup();
    a
}

/// The roll-ups: per account; per parent account (each account under its
/// direct parent, "none" without one); per tier ("none" without one).
pub(crate) fn rollups(
    rows: &[OpportunityRow],
    parents: &HashMap<Uuid, String>,
    tiers: &HashMap<Uuid, String>,
) -> Vec<RollupRow> {
    let mut by_account: BTreeMap<Uuid, RollupRow> = BTreeMap::new();
    for r in rows {
        let a = by_account.entry(r.customer).or_insert_with(|| RollupRow {
            level: "account",
            key: r.customer.to_string(),
            accounts: 1,
            ..RollupRow::default()
        });
        match r.status.as_str() {
            "won" => {
                a.won_count += 1;
                a.won_amount_minor = a.won_amount_minor.saturating_add(r.amount_minor);
            }
            "lost" => a.lost_count += 1,
            _ => {
                a.open_count += 1;
                a.open_amount_minor = a.open_amount_minor.saturating_add(r.amount_minor);
                a.expected_value_minor = a
                    .expected_value_minor
                    .saturating_add(r.expected_value_minor);
            }
        }
    }
    let mut groups: BTreeMap<(&'static str, String), RollupRow> = BTreeMap::new();
    for (account, row) in &by_account {
        let none = || "none".to_owned();
        for (level, key) in [
            ("parent", parents.get(account).cloned().unwrap_or_else(none)),
            ("tier", tiers.get(account).cloned().unwrap_or_else(none)),
        ] {
            let g = groups
                .entry((level, key.clone()))
                .or_insert_with(|| RollupRow {
                    level,
                    key,
                    ..RollupRow::default()
                });
            g.accounts += 1;
            g.open_count += row.open_count;
            g.open_amount_minor = g.open_amount_minor.saturating_add(row.open_amount_minor);
            g.expected_value_minor = g
                .expected_value_minor
                .saturating_add(row.expected_value_minor);
            g.won_count += row.won_count;
            g.won_amount_minor = g.won_amount_minor.saturating_add(row.won_amount_minor);
            g.lost_count += row.lost_count;
        }
    }
    by_account
        .into_values()
        .chain(groups.into_values())
        .collect()
}

/// The model's figures, with how many opportunities are open in each stage.
pub(crate) fn figures(model: &PipelineModel, folded: &[Folded]) -> ModelFigures {
    let mut open: HashMap<&str, u32> = HashMap::new();
    for f in folded.iter().filter(|f| f.status == "open") {
        *open.entry(f.stage.as_str()).or_default() += 1;
    }
    ModelFigures {
        won: model.won,
        lost: model.lost,
        tenant_win_rate: model.win_rate,
        thin_history: model.thin.clone().unwrap_or_default(),
        stages: model
            .stages
            .iter()
            .map(|s| StageFigure {
                stage: s.stage.clone(),
                exits: s.exits,
                exits_won: s.exits_won,
                exits_lost: s.exits_lost,
                win_probability: s.win_probability,
                typical_days: s.typical,
                open_now: open.get(s.stage.as_str()).copied().unwrap_or(0),
            })
            .collect(),
    }
}
