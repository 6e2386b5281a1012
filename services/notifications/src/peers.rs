//! What notifications needs from the other services: the customer's profile
//! (destination, consent, personalisation) and score, fetched with the
//! internal credential on the tenant's behalf.

use rapport_kit::internal::InternalCredentials;
use rapport_proto::v1::{
    self as pb, GetCustomerRequest, GetScoreRequest,
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

use crate::error::Error;

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
    pub async fn customer(&self, tenant: Uuid, id: Uuid) -> Result<Option<pb::Customer>, Error> {
        let customer_id = id.to_string();
        let req = (self.internal).request(tenant, None, GetCustomerRequest { customer_id });
        let answer = self.profiles.clone().get_customer(req).await;
        found("profiles", answer, |r| r.customer)
    }

    /// The customer's score, or `None` when scoring has none yet.
    pub async fn score(&self, tenant: Uuid, id: Uuid) -> Result<Option<pb::Score>, Error> {
        let customer_id = id.to_string();
        let req = (self.internal).request(tenant, None, GetScoreRequest { customer_id });
        let answer = self.scoring.clone().get_score(req).await;
        found("scoring", answer, |r| r.score)
    }
}

/// What a peer's answer holds, `None` when it does not know the thing asked
/// for; any other failure means the peer is unavailable.
fn found<R, T>(
    service: &str,
    answer: Result<tonic::Response<R>, tonic::Status>,
    pick: impl FnOnce(R) -> Option<T>,
) -> Result<Option<T>, Error> {
    match answer {
        Ok(r) => Ok(pick(r.into_inner())),
        Err(s) if s.code() == Code::NotFound => Ok(None),
        Err(s) => Err(Error::PeerUnavailable(format!(
            "{service} did not answer: {}",
            s.code()
        ))),
    }
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
