//! One webhook delivery attempt: the HTTP POST and what its answer means.
//! Errors recorded here never carry the destination URL (its query string
//! may hold a receiver's secret) nor the receiver's response body.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use reqwest::header;
use serde::Serialize;

use super::{
    AttemptResult, MAX_RESPONSE_BYTES, Started, Verdict, guard,
    http::{causes, retryable, transport_verdict},
};
use crate::model::Claimed;

/// The header carrying the signature: `t=<unix seconds>,v1=<hex hmac>`, with
/// a second `,v1=<hex hmac>` (under the replaced secret) while a rotation's
/// overlap lasts.
pub const SIGNATURE_HEADER: &str = "rapport-signature";

#[derive(Serialize)]
struct Payload<'a> {
    id: String,
    dedupe_key: &'a str,
    customer_id: String,
    subject: &'a str,
    body: &'a str,
    created_at: String,
}

/// Posts notifications to webhooks.
#[derive(Debug, Clone)]
pub struct Webhooks {
    client: reqwest::Client,
    timeout: Duration,
    public_only: bool,
}

impl Webhooks {
    /// Posts with `client` (see [`super::http::webhook_client`]), whose every
    /// attempt ends within `timeout`. With `public_only`, a destination whose
    /// host is a non-public IP literal is refused without a request (the
    /// client's resolver takes care of host names).
    pub fn new(client: reqwest::Client, timeout: Duration, public_only: bool) -> Webhooks {
        Webhooks {
            client,
            timeout,
            public_only,
        }
    }

    /// Makes one attempt at delivering `job`, signed with each of the
    /// tenant's `secrets` (the newest first).
    pub async fn deliver(&self, job: &Claimed, secrets: &[&str]) -> AttemptResult {
        let payload = Payload {
            id: job.id.to_string(),
            dedupe_key: &job.dedupe_key,
            customer_id: if job.customer_id.is_nil() {
                String::new()
            } else {
                job.customer_id.to_string()
            },
            subject: &job.subject,
            body: &job.body,
            created_at: job.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        };
        let started = Started::now();
        if self.public_only && guard::literal_non_public(&job.destination) {
            return started.result(Verdict::Refused, 0, guard::NonPublic.to_string());
        }
        // Serialising a struct of strings cannot fail.
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        // Signed per attempt: the timestamp is when this request was made.
        let signature = signature_header(secrets, Utc::now().timestamp(), &body);
        let sent = self
            .client
            .post(&job.destination)
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", job.id.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        let (verdict, http_status, error) = match sent {
            Ok(response) => judge(response).await,
            // No address left to try is not something time will fix.
            Err(e) if guard::is_non_public(&e) => {
                (Verdict::Refused, 0, guard::NonPublic.to_string())
            }
            Err(e) => (transport_verdict(&e), 0, self.describe(&e)),
        };
        started.result(verdict, http_status, error)
    }

    fn describe(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            return format!("timed out after {} ms", self.timeout.as_millis());
        }
        let what = if e.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        format!("{what}{}", causes(e))
    }
}

/// `t=<t>,v1=<hex hmac_sha256(secret, "<t>.<body>")>`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    signature_header(&[secret], t, body)
}

/// `t=<t>` and then `,v1=<hex hmac_sha256(secret, "<t>.<body>")>` for each of
/// `secrets` in order, as Stripe does during a rotation: a receiver accepts
/// the request when any `v1` matches a secret it holds.
pub fn signature_header(secrets: &[&str], t: i64, body: &[u8]) -> String {
    use hmac::Mac;
    let mut header = format!("t={t}");
    for secret in secrets {
        // HMAC takes keys of any length.
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
            .expect("hmac accepts any key length");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        header.push_str(",v1=");
        header.push_str(&hex::encode(mac.finalize().into_bytes()));
    }
    header
}

pub(super) async fn judge(mut response: reqwest::Response) -> (Verdict, i32, String) {
    let status = response.status();
    let code = i32::from(status.as_u16());
    if !status.is_success() {
        let verdict = if retryable(status) {
            Verdict::Retry
        } else {
            Verdict::Refused
        };
        return (verdict, code, format!("receiver answered {status}"));
    }
    let from_header = response
        .headers()
        .get("x-message-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let id = match from_header {
        Some(id) => id,
        None => id_from_body(&mut response).await.unwrap_or_default(),
    };
    (Verdict::Delivered(id), code, String::new())
}

/// The `id` field of a JSON response body, when there is one within
/// [`MAX_RESPONSE_BYTES`]. The delivery succeeded either way.
async fn id_from_body(response: &mut reqwest::Response) -> Option<String> {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let id = match value.get("id")? {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty()).then_some(id)
}
