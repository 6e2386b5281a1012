//! The notification as stored, its delivery attempts, and their wire form.

use chrono::{DateTime, Utc};
use rapport_kit::domain::chrono_to_timestamp;
use rapport_proto::v1 as pb;
use uuid::Uuid;

/// Where a notification is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its first or next attempt.
    Pending,
    /// The receiver accepted it.
    Delivered,
    /// No more attempts will be made.
    DeadLetter,
    /// Never sent, by policy; the reason is kept.
    Suppressed,
    /// Accepted for a later time.
    Scheduled,
}

impl Status {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::DeadLetter => "dead_letter",
            Status::Suppressed => "suppressed",
            Status::Scheduled => "scheduled",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "delivered" => Some(Status::Delivered),
            "dead_letter" => Some(Status::DeadLetter),
            "suppressed" => Some(Status::Suppressed),
            "scheduled" => Some(Status::Scheduled),
            _ => None,
        }
    }

    fn to_proto(self) -> pb::NotificationStatus {
        match self {
            Status::Pending => pb::NotificationStatus::Pending,
            Status::Delivered => pb::NotificationStatus::Delivered,
            Status::DeadLetter => pb::NotificationStatus::DeadLetter,
            Status::Suppressed => pb::NotificationStatus::Suppressed,
            Status::Scheduled => pb::NotificationStatus::Scheduled,
        }
    }
}

/// The stored name of a purpose.
pub fn purpose_name(purpose: pb::Purpose) -> &'static str {
    match purpose {
        pb::Purpose::Marketing => "marketing",
        pb::Purpose::Transactional | pb::Purpose::Unspecified => "transactional",
    }
}

fn purpose_from_name(name: &str) -> pb::Purpose {
    match name {
        "marketing" => pb::Purpose::Marketing,
        _ => pb::Purpose::Transactional,
    }
}

/// The stored name of a channel.
pub fn channel_name(channel: pb::Channel) -> &'static str {
    match channel {
        pb::Channel::Email => "email",
        pb::Channel::Sms => "sms",
        pb::Channel::Webhook => "webhook",
        pb::Channel::Unspecified => "unspecified",
    }
}

/// The channel a stored name stands for.
pub fn channel_from_name(name: &str) -> pb::Channel {
    match name {
        "email" => pb::Channel::Email,
        "sms" => pb::Channel::Sms,
        "webhook" => pb::Channel::Webhook,
        _ => pb::Channel::Unspecified,
    }
}

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
}

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
        }
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// When the request was started.
    pub started_at: DateTime<Utc>,
    /// True when the receiver accepted it.
    pub succeeded: bool,
    /// The receiver's HTTP status, 0 when none came back.
    pub http_status: i32,
    /// What went wrong, empty on success.
    pub error: String,
    /// How long the attempt took.
    pub duration_ms: u32,
    /// The back-off before the next attempt; 0 when none follows.
    pub retry_delay_ms: u32,
}

impl Attempt {
    fn into_proto(self) -> pb::DeliveryAttempt {
        pb::DeliveryAttempt {
            number: self.number,
            started_at: Some(chrono_to_timestamp(self.started_at)),
            succeeded: self.succeeded,
            http_status: self.http_status,
            error: self.error,
            duration_ms: self.duration_ms,
            retry_delay_ms: self.retry_delay_ms,
        }
    }
}

/// A notification claimed by a worker for one attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Its tenant.
    pub tenant_id: Uuid,
    /// Who it is about.
    pub customer_id: Uuid,
    /// Its id, sent as the idempotency key.
    pub id: Uuid,
    /// Stored channel name.
    pub channel: String,
    /// The caller's idempotency key.
    pub dedupe_key: String,
    /// URL, email address or phone number.
    pub destination: String,
    /// Subject line.
    pub subject: String,
    /// The message.
    pub body: String,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// Number of this attempt (1 for the first).
    pub attempt: u32,
    /// The claim this attempt runs under.
    pub lease_id: Uuid,
}

/// What an attempt leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Delivered; no more attempts.
    Delivered {
        /// When the receiver accepted it.
        at: DateTime<Utc>,
        /// The receiver's id for it, empty if none.
        provider_message_id: String,
    },
    /// Try again at this time.
    Retry {
        /// When the next attempt is due.
        at: DateTime<Utc>,
        /// The back-off chosen, kept with the attempt.
        delay_ms: u32,
    },
    /// Give up.
    DeadLetter,
    /// Policy refused it just before sending (consent revoked).
    Suppressed {
        /// Why.
        reason: &'static str,
    },
}

/// A stored template version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Its name.
    pub name: String,
    /// Stored channel name.
    pub channel: String,
    /// Its locale.
    pub locale: String,
    /// 1 for the first put.
    pub version: u32,
    /// Email subject.
    pub subject: String,
    /// The text.
    pub body: String,
    /// The `data.*` names a send must provide, sorted.
    pub required_data: Vec<String>,
    /// Used when no locale matches.
    pub default_locale: bool,
    /// When this version was saved.
    pub updated_at: DateTime<Utc>,
}

impl Template {
    /// True when `other` has the same content (everything but version and time).
    pub fn same_content(&self, other: &Template) -> bool {
        (
            &self.subject,
            &self.body,
            &self.required_data,
            self.default_locale,
        ) == (
            &other.subject,
            &other.body,
            &other.required_data,
            other.default_locale,
        )
    }

    /// The wire form.
    pub fn into_proto(self) -> pb::Template {
        pb::Template {
            name: self.name,
            channel: channel_from_name(&self.channel) as i32,
            locale: self.locale,
            subject: self.subject,
            body: self.body,
            required_data: self.required_data,
            default_locale: self.default_locale,
            version: self.version,
            updated_at: Some(chrono_to_timestamp(self.updated_at)),
        }
    }
}

pub use crate::policy::ContactPolicy;

/// Truncates `t` to whole microseconds, the precision both stores keep.
pub fn to_micros_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    rapport_kit::domain::from_micros(rapport_kit::domain::to_micros(t))
}
