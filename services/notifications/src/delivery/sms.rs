//! One SMS attempt through the provider's HTTP API. 2xx is accepted; 408,
//! 429, 5xx and transport failures are retried; any other answer is a
//! refusal, dead-lettered at once with a redacted summary of the provider's
//! error.

use std::time::Duration;

use crate::config::SmsConfig;
use reqwest::header;

use super::{
    AttemptResult, MAX_RESPONSE_BYTES, Started, Verdict,
    http::{causes, retryable, transport_verdict},
    redact::summary,
};
use crate::model::Claimed;

/// Posts messages to the configured provider.
#[derive(Debug, Clone)]
pub struct Sms {
    client: reqwest::Client,
    config: SmsConfig,
    url: String,
    timeout: Duration,
}

impl Sms {
    /// A sender for `config` posting with `client` (see
    /// [`super::http::sms_client`]), `None` when SMS is not configured.
    pub fn new(config: &SmsConfig, client: reqwest::Client, timeout: Duration) -> Option<Sms> {
        let url = config.url.clone()?;
        Some(Sms {
            client,
            config: config.clone(),
            url,
            timeout,
        })
    }

    /// Makes one attempt at sending `job` to its phone number.
    pub async fn deliver(&self, job: &Claimed) -> AttemptResult {
        let started = Started::now();
        let key = job.id.to_string();
        let mut request = self
            .client
            .post(&self.url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(self.config.payload(&job.destination, &job.body, &key));
        if let Some(value) = &self.config.auth_value {
            request = request.header(self.config.auth_header.as_str(), value.expose());
        }
        if !self.config.idempotency_header.is_empty() {
            request = request.header(self.config.idempotency_header.as_str(), &key);
        }
        let (verdict, http_status, error) = match request.send().await {
            Ok(response) => self.judge(response).await,
            Err(e) if e.is_timeout() => (
                Verdict::Retry,
                0,
                format!("timed out after {} ms", self.timeout.as_millis()),
            ),
            Err(e) => (
                transport_verdict(&e),
                0,
                format!("provider unreachable{}", causes(&e)),
            ),
        };
        started.result(verdict, http_status, error)
    }

    async fn judge(&self, mut response: reqwest::Response) -> (Verdict, i32, String) {
        let status = response.status();
        let code = i32::from(status.as_u16());
        let mut bytes = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        if status.is_success() {
            let id = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| match v.pointer(&self.config.message_id_pointer)? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .map(|id| id.trim().to_owned())
                .unwrap_or_default();
            return (Verdict::Delivered(id), code, String::new());
        }
        let verdict = if retryable(status) {
            Verdict::Retry
        } else {
            Verdict::Refused
        };
        // The provider's own words help whoever reads the dead letter, but
        // the tenant reads them too: only a redacted summary is kept.
        let said = summary(&bytes);
        (verdict, code, format!("provider answered {status}: {said}"))
    }
}
