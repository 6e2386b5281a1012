//! What notifications needs from the other services: the customer's profile
//! (destination, consent, personalisation) and score, fetched with the
//! internal credential on the tenant's behalf.

use std::collections::HashMap;

use chrono::{Datelike, Utc};
use rapport_kit::{ApiError, internal::InternalCredentials};
use rapport_proto::v1::{
    self as pb, GetCustomerRequest, GetScoreRequest,
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

/// Clients of profiles and scoring.
#[derive(Debug, Clone)]
pub struct Peers {
    profiles: ProfilesServiceClient<Channel>,
    scoring: ScoringServiceClient<Channel>,
    internal: InternalCredentials,
}

impl Peers {
    /// Calls the services behind these clients as `internal`.
    pub fn new(
        profiles: ProfilesServiceClient<Channel>,
        scoring: ScoringServiceClient<Channel>,
        internal: InternalCredentials,
    ) -> Self {
        Peers {
            profiles,
            scoring,
            internal,
        }
    }

    /// The customer, or `None` when profiles does not know it.
    pub async fn customer(&self, tenant: Uuid, id: Uuid) -> Result<Option<pb::Customer>, ApiError> {
        let req = self.internal.request(
            tenant,
            None,
            GetCustomerRequest {
                customer_id: id.to_string(),
            },
        );
        match self.profiles.clone().get_customer(req).await {
            Ok(r) => Ok(r.into_inner().customer),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(unavailable("profiles", &s)),
        }
    }

    /// The customer's score, or `None` when scoring has none yet.
    pub async fn score(&self, tenant: Uuid, id: Uuid) -> Result<Option<pb::Score>, ApiError> {
        let req = self.internal.request(
            tenant,
            None,
            GetScoreRequest {
                customer_id: id.to_string(),
            },
        );
        match self.scoring.clone().get_score(req).await {
            Ok(r) => Ok(r.into_inner().score),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(unavailable("scoring", &s)),
        }
    }
}

fn unavailable(service: &str, s: &tonic::Status) -> ApiError {
    ApiError::Unavailable(format!("{service} did not answer: {}", s.code()))
}

/// Why `customer` may not be contacted on `channel`, if so: a grant that is
/// in force is needed; a withdrawn one is told apart from none at all.
pub fn consent_refusal(customer: &pb::Customer, channel: pb::Channel) -> Option<&'static str> {
    let consent = customer
        .consents
        .iter()
        .find(|c| c.channel == channel as i32);
    match consent {
        Some(c) if c.granted && c.revoked_at.is_none() => None,
        Some(c) if c.revoked_at.is_some() => Some("CONSENT_REVOKED"),
        _ => Some("NO_CONSENT"),
    }
}

/// The customer's own address for `channel`, empty when the profile has none.
pub fn own_destination(customer: &pb::Customer, channel: pb::Channel) -> &str {
    match channel {
        pb::Channel::Email => &customer.email,
        pb::Channel::Sms => &customer.phone,
        _ => "",
    }
}

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
