//! A definition from the contract checked into a [`Definition`] and its
//! compiled condition, or every problem found, each with its field path (and
//! line and column for the condition). Nothing is saved unless this passes.

use rapport_kit::{FieldErrors, domain};
use rapport_proto::v1::{Channel, Purpose, RuleDefinition, RuleTrigger};
use rapport_rules::{EvalErrorKind, Program};

use super::{
    definition::{Action, Definition, Trigger, action_from_proto},
    env,
};
use crate::aggregates::rule_work::EventFacts;

/// Longest delay, or time before an event, a notify action may ask for: a
/// year is as far ahead as any reminder goes, and it keeps the arithmetic on
/// times far from overflow.
pub const MAX_OFFSET_SECONDS: i64 = 366 * 86_400;
/// Longest name, description, template, tag or tier, in bytes.
const MAX_TEXT: usize = 200;
/// Most actions per rule.
const MAX_ACTIONS: usize = 16;

/// One problem, positioned in the condition when it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Field path, e.g. "definition.condition".
    pub field: String,
    /// 1-based; 0 outside the condition.
    pub line: u32,
    /// 1-based; 0 outside the condition.
    pub column: u32,
    /// Why.
    pub message: String,
}

impl Diagnostic {
    fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            field: field.into(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

/// The diagnostics as field violations ("line L, column C: reason" for the
/// condition).
pub fn to_field_errors(diagnostics: &[Diagnostic]) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for d in diagnostics {
        if d.line > 0 {
            errors.add(
                &d.field,
                format!("line {}, column {}: {}", d.line, d.column, d.message),
            );
        } else {
            errors.add(&d.field, &d.message);
        }
    }
    errors
}

/// Compiles a condition in the rules environment.
pub fn compile(condition: &str) -> Result<Program, Diagnostic> {
    let field = "definition.condition";
    if condition.trim().is_empty() {
        return Err(Diagnostic::field(field, "required"));
    }
    let program = env::environment()
        .compile_condition(condition)
        .map_err(|e| Diagnostic {
            field: field.into(),
            line: e.line,
            column: e.column,
            message: e.message,
        })?;
    // The compiler bounds size and depth, not work: a condition that runs
    // out of budget on a customer with no data at all (literal lists
    // multiplied) would on everyone, so it is refused now. Work that grows
    // with the data is bounded when it runs.
    match program.evaluate_bool(&blank().activation()) {
        Err(e)
            if matches!(
                e.kind,
                EvalErrorKind::CostExceeded | EvalErrorKind::LimitExceeded
            ) =>
        {
            Err(Diagnostic {
                field: field.into(),
                line: e.line,
                column: e.column,
                message: e.message,
            })
        }
        _ => Ok(program),
    }
}

/// Bindings of a customer with no data, no profile and no event.
fn blank() -> env::Bindings {
    let now = chrono::Utc::now();
    let (score, change) = env::score_values(&rapport_proto::v1::Score::default(), 2, now);
    let mut b = std::collections::BTreeMap::new();
    b.insert("score", score);
    b.insert("change", change);
    b.insert(
        "customer",
        env::customer_value("", &[], &[], &Default::default()),
    );
    b.insert("event", EventFacts::default().value());
    b.insert("today", env::today_value(now));
    env::Bindings(b)
}

fn text(out: &mut Vec<Diagnostic>, field: &str, value: &str, required: bool) -> String {
    let checked = if required {
        domain::parse_id(value).and_then(|v| domain::check_text(v, MAX_TEXT))
    } else {
        domain::check_text(value, MAX_TEXT)
    };
    match checked {
        Ok(v) => v.trim().to_owned(),
        Err(e) => {
            out.push(Diagnostic::field(field, e));
            String::new()
        }
    }
}

fn check_action(out: &mut Vec<Diagnostic>, path: &str, a: &Action, tiers: &[String]) {
    match a {
        Action::Notify {
            channel,
            template,
            purpose,
            delay_seconds,
            before_event_property,
            before_seconds,
            ..
        } => {
            let p = |f: &str| format!("{path}.notify.{f}");
            match Channel::try_from(*channel) {
                Ok(Channel::Email | Channel::Sms) => {}
                _ => out.push(Diagnostic::field(
                    p("channel"),
                    "must be EMAIL or SMS (use a webhook action for webhooks)",
                )),
            }
            text(out, &p("template"), template, true);
            if !matches!(
                Purpose::try_from(*purpose),
                Ok(Purpose::Marketing | Purpose::Transactional)
            ) {
                out.push(Diagnostic::field(p("purpose"), "is not a Purpose"));
            }
            if *delay_seconds < 0 || *before_seconds < 0 {
                out.push(Diagnostic::field(p("delay"), "must not be negative"));
            }
            if *delay_seconds > MAX_OFFSET_SECONDS {
                out.push(Diagnostic::field(p("delay"), "must be at most 366 days"));
            }
            if *before_seconds > MAX_OFFSET_SECONDS {
                out.push(Diagnostic::field(p("before"), "must be at most 366 days"));
            }
            if !before_event_property.is_empty() && *delay_seconds != 0 {
                out.push(Diagnostic::field(
                    p("before_event_property"),
                    "set either a delay or a time before an event property, not both",
                ));
            }
        }
        Action::SetTier { tier } => {
            let t = text(out, &format!("{path}.set_tier.tier"), tier, true);
            if !t.is_empty() && !tiers.is_empty() && !tiers.contains(&t) {
                out.push(Diagnostic::field(
                    format!("{path}.set_tier.tier"),
                    format!(
                        "{t:?} is not one of the tenant's tiers ({})",
                        tiers.join(", ")
                    ),
                ));
            }
        }
        Action::Tag { tag } => {
            text(out, &format!("{path}.tag.tag"), tag, true);
        }
        // Rules post only to endpoints the tenant registered: a call from a
        // rule to a URL would be a contact needing consent, or an
        // unregistered destination.
        Action::Webhook { .. } => {
            out.push(Diagnostic::field(
                format!("{path}.webhook.url"),
                "rules post only to registered integration endpoints: register the URL with \
                 NotificationsService.PutIntegrationEndpoint and name the endpoint in \
                 webhook.endpoint",
            ));
        }
        Action::Integration { endpoint } => {
            let field = format!("{path}.webhook.endpoint");
            if endpoint.is_empty() {
                out.push(Diagnostic::field(
                    field,
                    "required: the name of a registered integration endpoint",
                ));
            } else if let Err(reason) = rapport_kit::domain::check_handle(endpoint, "endpoint") {
                out.push(Diagnostic::field(field, reason));
            }
        }
    }
}

/// Checks a definition; `tiers` are the tenant's tier names (empty: any).
pub fn check(
    d: &RuleDefinition,
    tiers: &[String],
) -> Result<(Definition, Program), Vec<Diagnostic>> {
    let mut out = Vec::new();
    let name = text(&mut out, "definition.name", &d.name, true);
    let description = text(&mut out, "definition.description", &d.description, false);
    let topic = text(&mut out, "definition.topic", &d.topic, false);
    let trigger = match RuleTrigger::try_from(d.trigger) {
        Ok(RuleTrigger::ScoreChange) => Some(Trigger::ScoreChange),
        Ok(RuleTrigger::Event) => Some(Trigger::Event),
        Ok(RuleTrigger::Schedule) => Some(Trigger::Schedule),
        _ => {
            out.push(Diagnostic::field(
                "definition.trigger",
                "must be SCORE_CHANGE, EVENT or SCHEDULE",
            ));
            None
        }
    };
    let mut event_kinds = Vec::new();
    for (i, k) in d.event_kinds.iter().enumerate() {
        let field = format!("definition.event_kinds[{i}]");
        let k = text(&mut out, &field, k, true);
        if !k.is_empty() && !k.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            out.push(Diagnostic::field(field, "must be lowercase snake case"));
        } else if !k.is_empty() && !event_kinds.contains(&k) {
            event_kinds.push(k);
        }
    }
    match trigger {
        Some(Trigger::Event) if d.event_kinds.is_empty() => out.push(Diagnostic::field(
            "definition.event_kinds",
            "an EVENT rule needs at least one event kind (purchase, refund, an interaction kind, \
             segment_entered, ...)",
        )),
        Some(Trigger::ScoreChange | Trigger::Schedule) if !d.event_kinds.is_empty() => {
            out.push(Diagnostic::field(
                "definition.event_kinds",
                "only EVENT rules take event kinds",
            ))
        }
        _ => {}
    }
    if d.holdout_percent > 50 {
        out.push(Diagnostic::field(
            "definition.holdout_percent",
            "must be between 0 and 50",
        ));
    }
    if !d.audience.is_empty() && !super::lists::NAMES.contains(&d.audience.as_str()) {
        out.push(Diagnostic::field(
            "definition.audience",
            format!(
                "{:?} is not a next-best list; one of {}, or empty for every customer",
                d.audience,
                super::lists::NAMES.join(", ")
            ),
        ));
    }
    if d.actions.is_empty() {
        out.push(Diagnostic::field(
            "definition.actions",
            "at least one action",
        ));
    } else if d.actions.len() > MAX_ACTIONS {
        out.push(Diagnostic::field(
            "definition.actions",
            format!("at most {MAX_ACTIONS} actions"),
        ));
    }
    let mut actions = Vec::new();
    for (i, a) in d.actions.iter().enumerate() {
        let path = format!("definition.actions[{i}]");
        match action_from_proto(a) {
            None => out.push(Diagnostic::field(
                path,
                "required: notify, set_tier, tag or webhook",
            )),
            Some(a) => {
                check_action(&mut out, &path, &a, tiers);
                actions.push(a);
            }
        }
    }
    let program = match compile(&d.condition) {
        Ok(p) => Some(p),
        Err(e) => {
            out.push(e);
            None
        }
    };
    match (trigger, program) {
        (Some(trigger), Some(program)) if out.is_empty() => Ok((
            Definition {
                name,
                description,
                condition: d.condition.clone(),
                trigger,
                event_kinds,
                actions,
                topic,
                holdout_percent: d.holdout_percent,
                audience: d.audience.clone(),
            },
            program,
        )),
        _ => Err(out),
    }
}
