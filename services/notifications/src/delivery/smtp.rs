//! One email attempt over SMTP. Permanent SMTP replies (5xx) are refusals;
//! transient ones (4xx), timeouts and connection failures are retried.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::header::ContentType,
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};

use super::{AttemptResult, Started, Verdict, redact::summary};
use crate::config::{SmtpConfig, SmtpTls};
use crate::model::Claimed;

/// Why the SMTP transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    /// The CA file is unusable.
    #[error("smtp.ca_file: {0}")]
    CaFile(#[from] super::ca::CaFileError),
    /// TLS parameters were refused.
    #[error("smtp tls: {0}")]
    Tls(#[from] lettre::transport::smtp::Error),
}

/// Sends email through the configured relay.
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").finish_non_exhaustive()
    }
}

impl Smtp {
    /// A sender for `config`, `None` when email is not configured.
    pub fn new(config: &SmtpConfig) -> Result<Option<Smtp>, SmtpSetupError> {
        let Some(host) = &config.host else {
            return Ok(None);
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.port)
            .timeout(Some(Duration::from_millis(config.timeout_ms.max(1))));
        if config.tls != SmtpTls::None {
            let mut params = TlsParameters::builder(host.clone());
            if let Some(path) = &config.ca_file {
                for cert in super::ca::load(path)? {
                    params = params.add_root_certificate(Certificate::from_der(cert.to_vec())?);
                }
            }
            let params = params.build()?;
            builder = builder.tls(match config.tls {
                SmtpTls::RequiredStarttls => Tls::Required(params),
                _ => Tls::Opportunistic(params),
            });
        }
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(Some(Smtp {
            transport: builder.build(),
            from: config.from.clone(),
        }))
    }

    /// Makes one attempt at sending `job` to its email address. The
    /// Message-ID derives from the notification id, so every attempt of one
    /// notification carries the same one and relays can drop repeats.
    pub async fn deliver(&self, job: &Claimed) -> AttemptResult {
        let started = Started::now();
        let (verdict, error) = match self.message(job) {
            Err(e) => (Verdict::Refused, e),
            Ok(message) => match self.transport.send(message).await {
                Ok(response) => {
                    let said: Vec<&str> = response.message().collect();
                    (Verdict::Delivered(said.join(" ")), String::new())
                }
                Err(e) if e.is_permanent() => (Verdict::Refused, describe(&e)),
                Err(e) => (Verdict::Retry, describe(&e)),
            },
        };
        started.result(verdict, 0, error)
    }

    fn message(&self, job: &Claimed) -> Result<Message, String> {
        let from = self
            .from
            .parse()
            .map_err(|e| format!("smtp.from is not an address: {e}"))?;
        let to = job
            .destination
            .parse()
            .map_err(|_| "the destination is not an email address".to_owned())?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(job.subject.clone())
            .message_id(Some(format!("<{}@rapport.notifications>", job.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(job.body.clone())
            .map_err(|e| format!("message cannot be built: {e}"))
    }
}

/// The error without the recipient's address or anything the server said
/// that may identify someone.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => format!("smtp server answered {code}"),
        None if e.is_timeout() => "smtp timed out".to_owned(),
        None => format!("smtp failed: {}", summary(e.to_string().as_bytes())),
    }
}
