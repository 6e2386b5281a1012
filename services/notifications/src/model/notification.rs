//! A notification as stored, and its wire form.

use chrono::{DateTime, Utc};
use rapport_kit::domain::chrono_to_timestamp;
use rapport_proto::v1 as pb;
use uuid::Uuid;

use super::{
    attempt::Attempt,
    names::{Status, channel_from_name, channel_name, purpose_from_name, purpose_name},
    new::NewNotification,
};

/// A notification as stored.
#[derive(Debug, Clone)]
pub struct Notification {
    /// Its id.
    pub id: Uuid,
    /// Who it is about.
    pub customer_id: Uuid,
    /// The caller's idempotency key.
    pub dedupe_key: String,
    /// Stored channel name.
    pub channel: String,
    /// Where it goes.
    pub destination: String,
    /// Subject line.
    pub subject: String,
    /// The message.
    pub body: String,
    /// Delivery state.
    pub status: Status,
    /// Attempts made so far.
    pub attempt_count: u32,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the receiver accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The latest error, empty if none.
    pub last_error: String,
    /// The receiver's id for it, empty if none was given.
    pub provider_message_id: String,
    /// Why it was suppressed, empty otherwise.
    pub suppressed_reason: String,
    /// Stored purpose name.
    pub purpose: String,
    /// Template name it was rendered from.
    pub template: String,
    /// Locale used.
    pub locale: String,
    /// Template version used.
    pub template_version: u32,
    /// Who asked for it.
    pub origin: String,
    /// Not before this time.
    pub send_at: Option<DateTime<Utc>>,
    /// The integration endpoint it was posted to, empty if none.
    pub integration_endpoint: String,
}

impl Notification {
    /// The row a successful insert of `new` produced.
    pub fn from_new(new: &NewNotification) -> Notification {
        Notification {
            id: new.id,
            customer_id: new.customer_id,
            dedupe_key: new.dedupe_key.clone(),
            channel: channel_name(new.channel).to_owned(),
            destination: new.destination.clone(),
            subject: new.subject.clone(),
            body: new.body.clone(),
            status: new.status(),
            attempt_count: 0,
            created_at: new.created_at,
            next_attempt_at: new.first_attempt_at(),
            delivered_at: None,
            last_error: String::new(),
            provider_message_id: String::new(),
            suppressed_reason: new.suppressed.unwrap_or_default().to_owned(),
            purpose: purpose_name(new.purpose).to_owned(),
            template: new.template.clone(),
            locale: new.locale.clone(),
            template_version: new.template_version,
            origin: new.origin.clone(),
            integration_endpoint: new.integration_endpoint.clone(),
            send_at: new.send_at,
        }
    }

    /// The wire form, with `attempts` when they were loaded.
    pub fn into_proto(self, attempts: Vec<Attempt>) -> pb::Notification {
        pb::Notification {
            id: self.id.to_string(),
            dedupe_key: self.dedupe_key,
            customer_id: if self.customer_id.is_nil() {
                String::new()
            } else {
                self.customer_id.to_string()
            },
            channel: channel_from_name(&self.channel) as i32,
            destination: self.destination,
            subject: self.subject,
            body: self.body,
            status: self.status.to_proto() as i32,
            attempt_count: self.attempt_count,
            created_at: Some(chrono_to_timestamp(self.created_at)),
            next_attempt_at: self.next_attempt_at.map(chrono_to_timestamp),
            delivered_at: self.delivered_at.map(chrono_to_timestamp),
            last_error: self.last_error,
            attempts: attempts.into_iter().map(Attempt::into_proto).collect(),
            provider_message_id: self.provider_message_id,
            suppressed_reason: self.suppressed_reason,
            purpose: purpose_from_name(&self.purpose) as i32,
            template: self.template,
            locale: self.locale,
            template_version: self.template_version,
            origin: self.origin,
            send_at: self.send_at.map(chrono_to_timestamp),
            integration_endpoint: self.integration_endpoint,
        }
    }
}
