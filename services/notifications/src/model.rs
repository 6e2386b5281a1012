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
}

impl Status {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::DeadLetter => "dead_letter",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "delivered" => Some(Status::Delivered),
            "dead_letter" => Some(Status::DeadLetter),
            _ => None,
        }
    }

    fn to_proto(self) -> pb::NotificationStatus {
        match self {
            Status::Pending => pb::NotificationStatus::Pending,
            Status::Delivered => pb::NotificationStatus::Delivered,
            Status::DeadLetter => pb::NotificationStatus::DeadLetter,
        }
    }
}

/// The stored name of a channel. Only webhooks are accepted in this cut, but
/// the names of the others are fixed now so rows never need rewriting.
pub fn channel_name(channel: pb::Channel) -> &'static str {
    match channel {
        pb::Channel::Email => "email",
        pb::Channel::Sms => "sms",
        pb::Channel::Webhook => "webhook",
        pb::Channel::Unspecified => "unspecified",
    }
}

fn channel_from_name(name: &str) -> pb::Channel {
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
    /// Who the notification is about.
    pub customer_id: Uuid,
    /// Always a webhook in this cut.
    pub channel: pb::Channel,
    /// The http(s) URL, as the caller gave it.
    pub destination: String,
    /// Short subject line.
    pub subject: String,
    /// The message.
    pub body: String,
    /// Acceptance time, at microsecond precision so both stores keep it exactly.
    pub created_at: DateTime<Utc>,
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
            status: Status::Pending,
            attempt_count: 0,
            created_at: new.created_at,
            next_attempt_at: Some(new.created_at),
            delivered_at: None,
            last_error: String::new(),
            provider_message_id: String::new(),
        }
    }

    /// The wire form, with `attempts` when they were loaded.
    pub fn into_proto(self, attempts: Vec<Attempt>) -> pb::Notification {
        pb::Notification {
            id: self.id.to_string(),
            dedupe_key: self.dedupe_key,
            customer_id: self.customer_id.to_string(),
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
            ..Default::default()
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
    /// The caller's idempotency key.
    pub dedupe_key: String,
    /// The URL to POST to.
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
    },
    /// Give up.
    DeadLetter,
}

/// Truncates `t` to whole microseconds, the precision both stores keep.
pub fn to_micros_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    rapport_kit::domain::from_micros(rapport_kit::domain::to_micros(t))
}
