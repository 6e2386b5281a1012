//! The rule file: how a business user writes a rule for `rapport rules`.
//!
//! ```toml
//! name = "valuable-slowing"
//! description = "Valuable customers who buy less often than they used to"
//! condition = "score.monthly_profit > 500.0 && change.frequency_drop > 0.3"
//! trigger = "score_change"      # or "event" (with event_kinds) or "schedule"
//! topic = "win-back"            # what the contact is about; dedupes across rules
//! holdout_percent = 10          # control group kept uncontacted
//!
//! [[actions]]
//! notify = { channel = "email", template = "win-back", locale = "en" }
//! [[actions]]
//! tag = "win-back-2026"
//! ```

use std::{path::Path, time::Duration};

use anyhow::Context;
use rapport_proto::v1::{
    Channel, NotifyAction, Purpose, RuleAction, RuleDefinition, RuleTrigger, SetTierAction,
    TagAction, WebhookAction, rule_action,
};
use serde::Deserialize;

/// A rule as written in a file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    name: String,
    #[serde(default)]
    description: String,
    condition: String,
    #[serde(default = "default_trigger")]
    trigger: String,
    #[serde(default)]
    event_kinds: Vec<String>,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    holdout_percent: u32,
    #[serde(default)]
    actions: Vec<ActionFile>,
}

fn default_trigger() -> String {
    "score_change".to_owned()
}

/// One action: exactly one of its keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum ActionFile {
    Notify(NotifyFile),
    SetTier(String),
    Tag(String),
    Webhook(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyFile {
    channel: String,
    template: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    delay: Option<String>,
    #[serde(default)]
    before_event_property: String,
    #[serde(default)]
    before: Option<String>,
}

/// Reads and converts a rule file; errors name the file, key and line.
pub fn read(path: &Path) -> anyhow::Result<RuleDefinition> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}

/// Parses the TOML text of a rule file.
pub fn parse(text: &str) -> anyhow::Result<RuleDefinition> {
    let file: RuleFile = toml::from_str(text)?;
    file.into_definition()
}

impl RuleFile {
    fn into_definition(self) -> anyhow::Result<RuleDefinition> {
        let trigger = match self.trigger.as_str() {
            "score_change" => RuleTrigger::ScoreChange,
            "event" => RuleTrigger::Event,
            "schedule" => RuleTrigger::Schedule,
            other => anyhow::bail!(
                "trigger: {other:?} is not one of \"score_change\", \"event\", \"schedule\""
            ),
        };
        let actions = self
            .actions
            .into_iter()
            .enumerate()
            .map(|(i, a)| a.into_proto().with_context(|| format!("actions[{i}]")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(RuleDefinition {
            name: self.name,
            description: self.description,
            condition: self.condition,
            trigger: trigger as i32,
            event_kinds: self.event_kinds,
            actions,
            topic: self.topic,
            holdout_percent: self.holdout_percent,
        })
    }
}

impl ActionFile {
    fn into_proto(self) -> anyhow::Result<RuleAction> {
        let action = match self {
            ActionFile::Notify(n) => rule_action::Action::Notify(n.into_proto()?),
            ActionFile::SetTier(tier) => rule_action::Action::SetTier(SetTierAction { tier }),
            ActionFile::Tag(tag) => rule_action::Action::Tag(TagAction { tag }),
            ActionFile::Webhook(url) => rule_action::Action::Webhook(WebhookAction { url }),
        };
        Ok(RuleAction {
            action: Some(action),
        })
    }
}

impl NotifyFile {
    fn into_proto(self) -> anyhow::Result<NotifyAction> {
        let channel = match self.channel.as_str() {
            "email" => Channel::Email,
            "sms" => Channel::Sms,
            "webhook" => Channel::Webhook,
            other => anyhow::bail!("notify.channel: {other:?} is not email, sms or webhook"),
        };
        let purpose = match self.purpose.as_str() {
            "" | "marketing" => Purpose::Marketing,
            "transactional" => Purpose::Transactional,
            other => anyhow::bail!("notify.purpose: {other:?} is not marketing or transactional"),
        };
        let duration = |field: &str, value: Option<String>| -> anyhow::Result<_> {
            value
                .map(|v| {
                    parse_duration(&v)
                        .map(to_proto_duration)
                        .with_context(|| format!("notify.{field}"))
                })
                .transpose()
        };
        Ok(NotifyAction {
            channel: channel as i32,
            template: self.template,
            locale: self.locale,
            purpose: purpose as i32,
            delay: duration("delay", self.delay)?,
            before_event_property: self.before_event_property,
            before: duration("before", self.before)?,
        })
    }
}

/// "90s", "30m", "24h", "7d": a whole number and a unit.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .with_context(|| format!("{text:?} has no unit (s, m, h or d)"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .with_context(|| format!("{text:?} does not start with a whole number"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => anyhow::bail!("{text:?}: unit {unit:?} is not s, m, h or d"),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .with_context(|| format!("{text:?} is too long"))
}

fn to_proto_duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_rule_file_becomes_a_definition() {
        let def = parse(
            r#"
name = "appointment-reminder"
condition = "event.kind == 'appointment_booked'"
trigger = "event"
event_kinds = ["appointment_booked"]
holdout_percent = 0
[[actions]]
notify = { channel = "sms", template = "reminder", purpose = "transactional", before_event_property = "appointment_at", before = "24h" }
[[actions]]
tag = "booked"
[[actions]]
set_tier = "Gold"
[[actions]]
webhook = "https://crm.example.com/hook"
"#,
        )
        .unwrap();
        assert_eq!(def.trigger, RuleTrigger::Event as i32);
        assert_eq!(def.event_kinds, ["appointment_booked"]);
        assert_eq!(def.actions.len(), 4);
        let Some(rule_action::Action::Notify(n)) = &def.actions[0].action else {
            panic!("first action is notify: {:?}", def.actions[0]);
        };
        assert_eq!(n.channel, Channel::Sms as i32);
        assert_eq!(n.purpose, Purpose::Transactional as i32);
        assert_eq!(n.before.as_ref().unwrap().seconds, 86_400);
        assert!(n.delay.is_none());
    }

    #[test]
    fn mistakes_name_the_key() {
        let err = |text: &str| format!("{:#}", parse(text).unwrap_err());
        assert!(err("name = 'x'\ncondition = 'true'\ntrigger = 'hourly'").contains("trigger"));
        assert!(err("name = 'x'\ncondition = 'true'\ncolour = 'red'").contains("colour"));
        let bad_channel = err(
            "name = 'x'\ncondition = 'true'\n[[actions]]\nnotify = { channel = 'fax', template = 't' }",
        );
        assert!(
            bad_channel.contains("actions[0]") && bad_channel.contains("fax"),
            "{bad_channel}"
        );
        let bad_delay = err(
            "name = 'x'\ncondition = 'true'\n[[actions]]\nnotify = { channel = 'email', template = 't', delay = '3 weeks' }",
        );
        assert!(bad_delay.contains("notify.delay"), "{bad_delay}");
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert!(parse_duration("90").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}
