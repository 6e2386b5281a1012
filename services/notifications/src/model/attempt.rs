//! Delivery attempts: one attempt's record, the claim it runs under, and
//! what it leads to.

use chrono::{DateTime, Utc};
use rapport_kit::domain::chrono_to_timestamp;
use rapport_proto::v1 as pb;
use uuid::Uuid;

use super::names::Status;

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
    pub(super) fn into_proto(self) -> pb::DeliveryAttempt {
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
    /// The integration endpoint it is posted to (signed with its secret, no
    /// consent applies); empty for a message to a customer.
    pub integration_endpoint: String,
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
    /// Nothing was sent (a dependency did not answer): check again at this
    /// time, with the attempt not counted.
    Wait {
        /// When to check again.
        at: DateTime<Utc>,
    },
    /// Give up.
    DeadLetter,
    /// Policy refused it just before sending (consent revoked).
    Suppressed {
        /// Why.
        reason: &'static str,
    },
}

impl Next {
    /// What the notification becomes: its status, when the next attempt is
    /// due, when it was delivered and the receiver's message id.
    pub fn outcome(&self) -> (Status, Option<DateTime<Utc>>, Option<DateTime<Utc>>, &str) {
        match self {
            Next::Delivered {
                at,
                provider_message_id,
            } => (
                Status::Delivered,
                None,
                Some(*at),
                provider_message_id.as_str(),
            ),
            Next::Retry { at, .. } | Next::Wait { at } => (Status::Pending, Some(*at), None, ""),
            Next::DeadLetter => (Status::DeadLetter, None, None, ""),
            Next::Suppressed { .. } => (Status::Suppressed, None, None, ""),
        }
    }

    /// Why it was suppressed, empty unless it was.
    pub fn suppressed_reason(&self) -> &'static str {
        match self {
            Next::Suppressed { reason } => reason,
            _ => "",
        }
    }
}
