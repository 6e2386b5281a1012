//! The environment the scoring service declares, and values for it.

#![allow(dead_code)]

use rapport_rules::{Activation, Env, ObjectType, Type, Value};

pub fn scoring_env() -> Env {
    let score = ObjectType::new("Score")
        .field("monthly_profit", Type::Double)
        .field("purchases_per_month", Type::Double)
        .field("recency_days", Type::Int)
        .field("rfm_segment", Type::String)
        .field("tier", Type::String)
        .field("probability_alive", Type::Double);
    let change = ObjectType::new("Change")
        .field("frequency_drop", Type::Double)
        .field("spend_drop", Type::Double);
    let customer = ObjectType::new("Customer")
        .field("attributes", Type::map(Type::String, Type::String))
        .field("tags", Type::list(Type::String))
        .field("kind", Type::String);
    let event = ObjectType::new("Event")
        .field("kind", Type::String)
        .field("properties", Type::map(Type::String, Type::String));
    Env::new()
        .variable("score", Type::object(score))
        .variable("change", Type::object(change))
        .variable("customer", Type::object(customer))
        .variable("event", Type::object(event))
}

/// A valuable customer whose purchase frequency is dropping.
pub fn activation() -> Activation {
    let mut a = Activation::new();
    a.bind(
        "score",
        Value::object([
            ("monthly_profit", Value::from(812.5)),
            ("purchases_per_month", Value::from(7.0)),
            ("recency_days", Value::from(12i64)),
            ("rfm_segment", Value::from("champions")),
            ("tier", Value::from("gold")),
            ("probability_alive", Value::from(0.93)),
        ]),
    )
    .bind(
        "change",
        Value::object([
            ("frequency_drop", Value::from(0.42)),
            ("spend_drop", Value::from(0.1)),
        ]),
    )
    .bind(
        "customer",
        Value::object([
            (
                "attributes",
                Value::string_map([("region", "north"), ("industry", "retail")]),
            ),
            (
                "tags",
                Value::list([Value::from("vip"), Value::from("b2b")]),
            ),
            ("kind", Value::from("business")),
        ]),
    )
    .bind(
        "event",
        Value::object([
            ("kind", Value::from("cart_abandoned")),
            ("properties", Value::string_map([("cart_value", "129.90")])),
        ]),
    );
    a
}
