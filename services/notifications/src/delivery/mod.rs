//! Delivery attempts on each channel and what their answers mean: webhooks
//! (signed, to public addresses only: [`guard`]), SMS through a provider's
//! HTTP API, email over SMTP. Webhooks and SMS share the HTTP(S) setup
//! ([`http`]); what a provider says is kept only as a redacted summary
//! ([`redact`]).

pub mod ca;
pub mod guard;
pub mod http;
pub mod redact;
pub mod sms;
pub mod smtp;
pub mod webhook;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Most of a response body read while looking for a message id or error.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What the receiver's answer means for the notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted, with the receiver's message id if it gave one.
    Delivered(String),
    /// A failure that may pass: try again later.
    Retry,
    /// A service the attempt depends on (Profiles, for the consent check)
    /// did not answer: nothing was sent, so try again later without using
    /// up an attempt, for as long as the notification may wait.
    Wait,
    /// The receiver refused it; trying again cannot help.
    Refused,
}

/// The result of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// What to do next.
    pub verdict: Verdict,
    /// When the request started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub duration: Duration,
    /// The receiver's HTTP status, 0 when none came back.
    pub http_status: i32,
    /// What went wrong, empty on success.
    pub error: String,
}

/// Longest provider message id kept, in characters.
const MAX_PROVIDER_ID_CHARS: usize = 256;
/// Longest attempt error kept, in characters.
const MAX_ERROR_CHARS: usize = 1_000;

impl AttemptResult {
    /// The result as it can be stored: text that came from a receiver or a
    /// provider loses its control characters (Postgres text cannot hold NUL,
    /// and a result that cannot be recorded is sent again every lease) and is
    /// cut to a bounded length.
    pub fn storable(mut self) -> AttemptResult {
        if let Verdict::Delivered(id) = &mut self.verdict {
            *id = storable_text(id, MAX_PROVIDER_ID_CHARS);
        }
        self.error = storable_text(&self.error, MAX_ERROR_CHARS);
        self
    }
}

/// `text` without control characters (each becomes a space), at most `max`
/// characters.
fn storable_text(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    rapport_kit::domain::truncate(&clean, max)
}

/// The start of an attempt, which times it.
#[derive(Debug, Clone, Copy)]
pub struct Started {
    at: DateTime<Utc>,
    clock: Instant,
}

impl Started {
    /// An attempt starting now.
    pub fn now() -> Started {
        Started {
            at: Utc::now(),
            clock: Instant::now(),
        }
    }

    /// The attempt's result, with its start and duration.
    pub fn result(self, verdict: Verdict, http_status: i32, error: String) -> AttemptResult {
        AttemptResult {
            verdict,
            started_at: self.at,
            duration: self.clock.elapsed(),
            http_status,
            error,
        }
    }
}
