//! A rule's definition as stored (JSON in `rule_versions.definition`) and its
//! conversions from and to the contract. Only validated definitions are built
//! (see [`super::validate`]).

use prost_types::Duration as PbDuration;
use rapport_proto::v1::{
    self as pb, NotifyAction, RuleAction, RuleDefinition, RuleTrigger, SetTierAction, TagAction,
    WebhookAction, rule_action,
};
use serde::{Deserialize, Serialize};

/// When a rule is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// On score changes and on the schedule, edge-triggered.
    ScoreChange,
    /// Once per event of the listed kinds.
    Event,
    /// On the schedule only, edge-triggered.
    Schedule,
}

impl Trigger {
    /// The contract's value.
    pub fn to_proto(self) -> RuleTrigger {
        match self {
            Trigger::ScoreChange => RuleTrigger::ScoreChange,
            Trigger::Event => RuleTrigger::Event,
            Trigger::Schedule => RuleTrigger::Schedule,
        }
    }

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::ScoreChange => "score_change",
            Trigger::Event => "event",
            Trigger::Schedule => "schedule",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Trigger> {
        [Trigger::ScoreChange, Trigger::Event, Trigger::Schedule]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A message through the notifications service.
    Notify {
        /// `rapport.v1.Channel` value (EMAIL or SMS).
        channel: i32,
        /// Template name.
        template: String,
        /// BCP 47 tag, may be empty.
        locale: String,
        /// `rapport.v1.Purpose` value.
        purpose: i32,
        /// Seconds after the firing.
        delay_seconds: i64,
        /// Event property holding the time to send before, may be empty.
        before_event_property: String,
        /// Seconds before that time.
        before_seconds: i64,
    },
    /// A tier the score shows instead of the computed one.
    SetTier {
        /// The tier.
        tier: String,
    },
    /// A tag the score lists.
    Tag {
        /// The tag.
        tag: String,
    },
    /// The firing POSTed to a URL as a customer-facing webhook (the
    /// customer's consent applies). Only rule versions saved before
    /// integration endpoints existed hold it: new definitions name an
    /// endpoint instead.
    Webhook {
        /// http(s) URL.
        url: String,
    },
    /// The firing POSTed to one of the tenant's registered integration
    /// endpoints, signed with its secret; no customer consent applies.
    Integration {
        /// The endpoint's name.
        endpoint: String,
    },
}

impl Action {
    /// Whether the action contacts the customer (or a third party about them):
    /// the control group gets none of these.
    pub fn contacts(&self) -> bool {
        matches!(
            self,
            Action::Notify { .. } | Action::Webhook { .. } | Action::Integration { .. }
        )
    }
}

/// A validated rule definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// Unique per tenant.
    pub name: String,
    /// For people.
    pub description: String,
    /// CEL source.
    pub condition: String,
    /// When it is evaluated.
    pub trigger: Trigger,
    /// Event kinds an EVENT rule fires on.
    pub event_kinds: Vec<String>,
    /// What it does.
    pub actions: Vec<Action>,
    /// Dedupe topic; empty means the rule id.
    pub topic: String,
    /// 0..=50.
    pub holdout_percent: u32,
    /// A next-best list the rule is limited to; empty for every customer.
    /// (Versions saved before audiences existed have none.)
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
}

fn seconds(d: Option<&PbDuration>) -> i64 {
    d.map_or(0, |d| d.seconds)
}

fn duration(seconds: i64) -> Option<PbDuration> {
    (seconds != 0).then_some(PbDuration { seconds, nanos: 0 })
}

/// An action from the contract; `None` for an empty oneof.
pub fn action_from_proto(a: &RuleAction) -> Option<Action> {
    Some(match a.action.as_ref()? {
        rule_action::Action::Notify(n) => Action::Notify {
            channel: n.channel,
            template: n.template.clone(),
            locale: n.locale.clone(),
            purpose: if n.purpose == pb::Purpose::Unspecified as i32 {
                pb::Purpose::Marketing as i32
            } else {
                n.purpose
            },
            delay_seconds: seconds(n.delay.as_ref()),
            before_event_property: n.before_event_property.clone(),
            before_seconds: seconds(n.before.as_ref()),
        },
        rule_action::Action::SetTier(t) => Action::SetTier {
            tier: t.tier.clone(),
        },
        rule_action::Action::Tag(t) => Action::Tag { tag: t.tag.clone() },
        rule_action::Action::Webhook(w) if w.url.is_empty() => Action::Integration {
            endpoint: w.endpoint.clone(),
        },
        rule_action::Action::Webhook(w) => Action::Webhook { url: w.url.clone() },
    })
}

impl Definition {
    /// The contract's form.
    pub fn to_proto(&self) -> RuleDefinition {
        RuleDefinition {
            name: self.name.clone(),
            description: self.description.clone(),
            condition: self.condition.clone(),
            trigger: self.trigger.to_proto() as i32,
            event_kinds: self.event_kinds.clone(),
            actions: self.actions.iter().map(action_to_proto).collect(),
            topic: self.topic.clone(),
            holdout_percent: self.holdout_percent,
            audience: self.audience.clone(),
        }
    }

    /// Whether the rule applies to a customer on `lists`.
    pub fn reaches(&self, lists: &[String]) -> bool {
        self.audience.is_empty() || lists.contains(&self.audience)
    }

    /// Whether an EVENT rule listens to `kind`.
    pub fn listens_to(&self, kind: &str) -> bool {
        self.trigger == Trigger::Event && self.event_kinds.iter().any(|k| k == kind)
    }
}

fn action_to_proto(a: &Action) -> RuleAction {
    let action = match a {
        Action::Notify {
            channel,
            template,
            locale,
            purpose,
            delay_seconds,
            before_event_property,
            before_seconds,
        } => rule_action::Action::Notify(NotifyAction {
            channel: *channel,
            template: template.clone(),
            locale: locale.clone(),
            purpose: *purpose,
            delay: duration(*delay_seconds),
            before_event_property: before_event_property.clone(),
            before: duration(*before_seconds),
        }),
        Action::SetTier { tier } => {
            rule_action::Action::SetTier(SetTierAction { tier: tier.clone() })
        }
        Action::Tag { tag } => rule_action::Action::Tag(TagAction { tag: tag.clone() }),
        Action::Webhook { url } => rule_action::Action::Webhook(WebhookAction {
            url: url.clone(),
            endpoint: String::new(),
        }),
        Action::Integration { endpoint } => rule_action::Action::Webhook(WebhookAction {
            url: String::new(),
            endpoint: endpoint.clone(),
        }),
    };
    RuleAction {
        action: Some(action),
    }
}
