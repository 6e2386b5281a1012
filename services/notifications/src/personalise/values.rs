//! The values a template reads from a customer's profile and score.

use std::collections::HashMap;

use chrono::{Datelike, Utc};
use rapport_proto::v1 as pb;

/// Template values from a profile: named fields and `attributes.X`.
pub fn customer_values(customer: &pb::Customer) -> HashMap<String, String> {
    let mut v = HashMap::new();
    let first = customer
        .display_name
        .split_whitespace()
        .next()
        .unwrap_or_default();
    v.insert("display_name".to_owned(), customer.display_name.clone());
    v.insert("first_name".to_owned(), first.to_owned());
    v.insert("email".to_owned(), customer.email.clone());
    v.insert("phone".to_owned(), customer.phone.clone());
    for (k, value) in &customer.attributes {
        v.insert(format!("attributes.{k}"), value.clone());
    }
    v
}

/// Template values from a score. "This year" is the calendar year (UTC),
/// from the monthly history the score carries.
pub fn score_values(score: &pb::Score) -> HashMap<String, String> {
    let mut v = HashMap::new();
    let year = format!("{}-", Utc::now().year());
    let this_year = score
        .monthly_spend
        .iter()
        .filter(|m| m.month.starts_with(&year));
    let (mut purchases, mut spend) = (0u64, 0i64);
    let mut currency = score
        .net_spend
        .as_ref()
        .map(|m| m.currency_code.clone())
        .unwrap_or_default();
    for m in this_year {
        purchases += u64::from(m.purchases);
        if let Some(net) = &m.net_spend {
            spend += net.minor_units;
            currency.clone_from(&net.currency_code);
        }
    }
    v.insert("purchases_this_year".to_owned(), purchases.to_string());
    v.insert("spend_this_year".to_owned(), money(spend, &currency));
    if let Some(net) = &score.net_spend {
        v.insert(
            "net_spend".to_owned(),
            money(net.minor_units, &net.currency_code),
        );
    }
    if let Some(t) = &score.last_purchase_at
        && let Ok(t) = rapport_kit::domain::timestamp_to_chrono(t)
    {
        v.insert(
            "last_purchase_at".to_owned(),
            t.format("%Y-%m-%d").to_string(),
        );
    }
    v.insert("tier".to_owned(), score.tier.clone());
    v.insert("segment".to_owned(), score.segment.clone());
    v
}

/// `12.50 EUR`; minor units only when the currency is unknown.
fn money(minor: i64, currency: &str) -> String {
    match rapport_kit::domain::CurrencyCode::parse(currency) {
        Ok(code) => format!(
            "{} {}",
            rapport_kit::domain::format_minor(minor, code),
            code.as_str()
        ),
        Err(_) => minor.to_string(),
    }
}
