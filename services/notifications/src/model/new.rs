//! A notification as accepted, before it is stored: its status and first
//! attempt follow from policy and the requested send time.

use chrono::{DateTime, Utc};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use super::{names::Status, policy::ContactPolicy};

/// A validated request to send, ready to store.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// Assigned on acceptance.
    pub id: Uuid,
    /// The caller's idempotency key, unique per tenant.
    pub dedupe_key: String,
    /// Who the notification is about; nil for a webhook about no one.
    pub customer_id: Uuid,
    /// Where it goes.
    pub channel: pb::Channel,
    /// URL, email address or phone number.
    pub destination: String,
    /// Short subject line.
    pub subject: String,
    /// The message.
    pub body: String,
    /// Acceptance time, at microsecond precision so both stores keep it exactly.
    pub created_at: DateTime<Utc>,
    /// Which policies apply.
    pub purpose: pb::Purpose,
    /// Template name, locale and version it was rendered from (empty, 0 if none).
    pub template: String,
    /// The locale actually used.
    pub locale: String,
    /// The template version used.
    pub template_version: u32,
    /// Who asked for it.
    pub origin: String,
    /// Not before this time.
    pub send_at: Option<DateTime<Utc>>,
    /// Set when policy refuses it: stored as SUPPRESSED with this reason.
    pub suppressed: Option<&'static str>,
    /// The integration endpoint it is posted to; empty for a message to a
    /// customer.
    pub integration_endpoint: String,
}

impl NewNotification {
    /// The status it is stored with.
    pub fn status(&self) -> Status {
        match (self.suppressed, self.send_at) {
            (Some(_), _) => Status::Suppressed,
            (None, Some(at)) if at > self.created_at => Status::Scheduled,
            _ => Status::Pending,
        }
    }

    /// When the first attempt is due; none for a suppressed one.
    pub fn first_attempt_at(&self) -> Option<DateTime<Utc>> {
        match self.status() {
            Status::Suppressed => None,
            Status::Scheduled => self.send_at,
            _ => Some(self.created_at),
        }
    }

    /// Whether the frequency cap applies: marketing to a customer that
    /// policy has not already refused.
    pub fn counts_against_cap(&self) -> bool {
        self.purpose == pb::Purpose::Marketing
            && self.integration_endpoint.is_empty()
            && !self.customer_id.is_nil()
            && self.suppressed.is_none()
    }

    /// Suppresses it when `policy` refuses it, given the customer's
    /// marketing messages in the cap's window and the latest one.
    pub fn apply_cap(
        &mut self,
        policy: &ContactPolicy,
        in_window: i64,
        latest: Option<DateTime<Utc>>,
    ) {
        let in_window = u32::try_from(in_window).unwrap_or(u32::MAX);
        if let Some(reason) = policy.refusal(self.created_at, in_window, latest) {
            self.suppressed = Some(reason);
        }
    }
}
