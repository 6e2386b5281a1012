//! The CEL environment rules are compiled against, and the values a customer's
//! score, profile, event and the date bind to it (documented in rules.proto).
//! Values come from the same enriched `Score` GetScore returns.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Datelike, Utc};
use rapport_kit::domain::timestamp_to_chrono;
use rapport_proto::v1::{Money, Score};
use rapport_rules::{Activation, Env, MapKey, ObjectType, Program, Type, Value};

use crate::aggregates::{figures, rule_work::EventFacts};

const SCORE_INTS: &[&str] = &[
    "recency_days",
    "purchase_count",
    "refund_count",
    "interaction_count",
    "days_since_last_interaction",
    "purchases_this_year",
    "rfm_recency",
    "rfm_frequency",
    "rfm_monetary",
];
const SCORE_DOUBLES: &[&str] = &[
    "net_spend",
    "average_order_value",
    "average_monthly_spend",
    "purchases_per_month",
    "monthly_profit",
    "past_value",
    "lifetime_value",
    "probability_alive",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "share_of_wallet",
    "spend_this_year",
];
const SCORE_STRINGS: &[&str] = &["rfm_segment", "tier", "lifecycle"];
/// Behaviour flags bound under `change`.
pub const CHANGES: &[&str] = &["frequency_drop", "spend_drop", "overdue", "spend_rise"];

fn object(name: &str, fields: &[(&[&str], Type)]) -> Type {
    let mut o = ObjectType::new(name);
    for (names, ty) in fields {
        for n in *names {
            o = o.field(n, ty.clone());
        }
    }
    Type::Object(Arc::new(o))
}

/// The environment every rule compiles in: only these variables exist.
pub fn environment() -> Env {
    let score = object(
        "Score",
        &[
            (SCORE_INTS, Type::Int),
            (SCORE_DOUBLES, Type::Double),
            (SCORE_STRINGS, Type::String),
            (&["has_wallet_estimate"], Type::Bool),
        ],
    );
    let change = object("Change", &[(CHANGES, Type::Double)]);
    let customer = object(
        "Customer",
        &[
            (&["kind"], Type::String),
            (&["tags", "lists"], Type::list(Type::String)),
            (&["attributes"], Type::map(Type::String, Type::String)),
        ],
    );
    let event = object(
        "Event",
        &[
            (
                &["kind", "category", "segment", "tier", "previous"],
                Type::String,
            ),
            (&["amount"], Type::Double),
            (&["properties"], Type::map(Type::String, Type::String)),
        ],
    );
    let today = object(
        "Today",
        &[
            (&["year", "month", "day", "weekday"], Type::Int),
            (&["month_day"], Type::String),
        ],
    );
    let points = object("Points", &[(&["balance", "expiring_30d"], Type::Int)]);
    Env::new()
        .variable("score", score)
        .variable("points", points)
        .variable("change", change)
        .variable("customer", customer)
        .variable("event", event)
        .variable("today", today)
}

/// Whether a condition reads the customer's profile (kind or attributes),
/// which costs a call to Profiles per customer.
pub fn reads_profile(program: &Program) -> bool {
    program
        .references()
        .iter()
        .any(|r| r.starts_with("customer.attributes") || r.starts_with("customer.kind"))
}

/// Whether a condition reads the customer's loyalty points, which costs a
/// read of the points tables per customer (per page in a dry run).
pub fn reads_points(program: &Program) -> bool {
    program.references().iter().any(|r| r.starts_with("points"))
}

/// `points`: the balance and the points expiring within 30 days (both 0
/// for a customer without points, or when the condition does not read them).
pub fn points_value(balance: i64, expiring_30d: i64) -> Value {
    Value::object([
        ("balance", Value::Int(balance)),
        ("expiring_30d", Value::Int(expiring_30d)),
    ])
}

/// Minor units in major units of a currency with `exponent` decimals.
pub fn major(minor: i64, exponent: u8) -> f64 {
    minor as f64 / 10f64.powi(i32::from(exponent))
}

fn money(m: &Option<Money>, exponent: u8) -> Value {
    Value::Double(m.as_ref().map_or(0.0, |m| major(m.minor_units, exponent)))
}

/// `score` and `change` for an enriched score as of `now`.
pub fn score_values(s: &Score, exponent: u8, now: DateTime<Utc>) -> (Value, Value) {
    let time =
        |t: &Option<prost_types::Timestamp>| t.as_ref().and_then(|t| timestamp_to_chrono(t).ok());
    let first = time(&s.first_purchase_at);
    let months = figures::months_active(first, now) as f64;
    let year = format!("{:04}-", now.year());
    let this_year = s
        .monthly_spend
        .iter()
        .filter(|m| m.month.starts_with(&year));
    let (purchases_this_year, spend_this_year) = this_year.fold((0i64, 0i64), |(p, n), m| {
        (
            p + i64::from(m.purchases),
            n + m.net_spend.as_ref().map_or(0, |x| x.minor_units),
        )
    });
    // A difference of two times always fits a Duration: no overflow.
    let since_interaction =
        time(&s.last_interaction_at).map_or(-1, |t| (now - t).num_days().max(0));
    let value = s.value.clone().unwrap_or_default();
    let rfm = s.rfm.clone().unwrap_or_default();
    let opt = |v: Option<f64>| Value::Double(v.unwrap_or(0.0));
    let score = Value::object([
        ("recency_days", Value::Int(i64::from(s.recency_days))),
        ("purchase_count", Value::Int(s.purchase_count as i64)),
        ("refund_count", Value::Int(s.refund_count as i64)),
        ("interaction_count", Value::Int(s.interaction_count as i64)),
        ("days_since_last_interaction", Value::Int(since_interaction)),
        ("purchases_this_year", Value::Int(purchases_this_year)),
        ("rfm_recency", Value::Int(i64::from(rfm.recency))),
        ("rfm_frequency", Value::Int(i64::from(rfm.frequency))),
        ("rfm_monetary", Value::Int(i64::from(rfm.monetary))),
        ("net_spend", money(&s.net_spend, exponent)),
        (
            "average_order_value",
            money(&s.average_order_value, exponent),
        ),
        (
            "average_monthly_spend",
            money(&s.average_monthly_spend, exponent),
        ),
        (
            "purchases_per_month",
            Value::Double(s.purchase_count as f64 / months),
        ),
        ("monthly_profit", money(&value.monthly_profit, exponent)),
        ("past_value", money(&value.past_value, exponent)),
        ("lifetime_value", money(&value.lifetime_value, exponent)),
        ("probability_alive", opt(value.probability_alive)),
        ("expected_purchases_30d", opt(value.expected_purchases_30d)),
        ("expected_purchases_90d", opt(value.expected_purchases_90d)),
        (
            "expected_purchases_365d",
            opt(value.expected_purchases_365d),
        ),
        ("share_of_wallet", opt(value.share_of_wallet)),
        (
            "has_wallet_estimate",
            Value::Bool(value.share_of_wallet.is_some()),
        ),
        (
            "spend_this_year",
            Value::Double(major(spend_this_year, exponent)),
        ),
        ("rfm_segment", Value::from(rfm.segment.as_str())),
        ("tier", Value::from(s.tier.as_str())),
        ("lifecycle", Value::from(s.segment.as_str())),
    ]);
    let change = Value::object(CHANGES.iter().map(|kind| {
        let strength = s
            .behaviour_flags
            .iter()
            .find(|f| f.kind == *kind)
            .map_or(0.0, |f| f.strength);
        (*kind, Value::Double(strength))
    }));
    (score, change)
}

/// `customer`: what the profile says (empty when not read), the tags and
/// the next-best lists of the latest report the customer is on.
pub fn customer_value(
    kind: &str,
    tags: &[String],
    lists: &[String],
    attributes: &BTreeMap<String, String>,
) -> Value {
    Value::object([
        ("kind", Value::from(kind)),
        (
            "tags",
            Value::list(tags.iter().map(|t| Value::from(t.as_str()))),
        ),
        (
            "lists",
            Value::list(lists.iter().map(|t| Value::from(t.as_str()))),
        ),
        ("attributes", Value::string_map(attributes)),
    ])
}

/// `event` and the event's text values, for the facts ApplyChanges queued
/// (or a membership change raised).
impl EventFacts {
    /// `event`.
    pub fn value(&self) -> Value {
        Value::object([
            ("kind", Value::from(self.kind.as_str())),
            ("amount", Value::Double(self.amount)),
            ("category", Value::from(self.category.as_str())),
            ("properties", Value::string_map(&self.properties)),
            ("segment", Value::from(self.segment.as_str())),
            ("tier", Value::from(self.tier.as_str())),
            ("previous", Value::from(self.previous.as_str())),
        ])
    }

    /// The event as text values, for templates and webhooks.
    pub fn data(&self) -> BTreeMap<String, String> {
        let mut d: BTreeMap<String, String> = self
            .properties
            .iter()
            .map(|(k, v)| (format!("event.properties.{k}"), v.clone()))
            .collect();
        for (k, v) in [
            ("event.id", &self.id),
            ("event.kind", &self.kind),
            ("event.category", &self.category),
            ("event.segment", &self.segment),
            ("event.tier", &self.tier),
            ("event.previous", &self.previous),
        ] {
            if !v.is_empty() {
                d.insert(k.to_owned(), v.clone());
            }
        }
        if self.amount != 0.0 {
            d.insert("event.amount".into(), self.amount.to_string());
        }
        d
    }
}

/// `today` for `now` (UTC).
pub fn today_value(now: DateTime<Utc>) -> Value {
    Value::object([
        ("year", Value::Int(i64::from(now.year()))),
        ("month", Value::Int(i64::from(now.month()))),
        ("day", Value::Int(i64::from(now.day()))),
        (
            "weekday",
            Value::Int(i64::from(now.weekday().number_from_monday())),
        ),
        (
            "month_day",
            Value::from(format!("{:02}-{:02}", now.month(), now.day())),
        ),
    ])
}

/// Every variable bound, kept by name so inputs can be reported.
#[derive(Debug, Clone)]
pub struct Bindings(pub BTreeMap<&'static str, Value>);

impl Bindings {
    /// The activation a program runs against.
    pub fn activation(&self) -> Activation {
        let mut a = Activation::new();
        for (k, v) in &self.0 {
            a.bind(k, v.clone());
        }
        a
    }

    /// The values of the referenced paths ("score.monthly_profit",
    /// "customer.attributes"), as text.
    pub fn inputs<'a>(
        &self,
        references: impl IntoIterator<Item = &'a String>,
    ) -> BTreeMap<String, String> {
        references
            .into_iter()
            .filter_map(|path| {
                let mut parts = path.split('.');
                let mut v = self.0.get(parts.next()?)?;
                for p in parts {
                    let Value::Map(m) = v else { return None };
                    v = m.get(&MapKey::from(p))?;
                }
                Some((path.clone(), text(v)))
            })
            .collect()
    }
}

/// A value as a person reads it: strings without quotes.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Double(d) => format!("{d}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
