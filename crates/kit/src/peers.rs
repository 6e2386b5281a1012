//! The typed clients of the other services, built from configuration: the one
//! wiring every process, the all-in-one suite and the test harnesses share.

use std::time::Duration;

use anyhow::Context;
use rapport_proto::v1::{
    ingestion_service_client::IngestionServiceClient,
    notifications_service_client::NotificationsServiceClient,
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::{
    config::{Config, Peers, Tls},
    internal::endpoint,
};

mod balance;

pub use balance::{Resolver, balanced_channel, system_resolver};

/// Where the peer services are and how calls to them are bounded. Each
/// client connects on first use (see [`channel`]).
#[derive(Debug, Clone)]
pub struct PeerClients {
    urls: Peers,
    fallback: Option<String>,
    timeout: Duration,
    max_message_bytes: usize,
    tls: Tls,
}

impl PeerClients {
    /// The peers at `config.peers`, called with the configured request
    /// timeout and message size limit.
    pub fn new(config: &Config) -> PeerClients {
        PeerClients {
            urls: config.peers.clone(),
            fallback: None,
            timeout: config.request_timeout(),
            max_message_bytes: config.max_message_bytes,
            tls: config.tls.clone(),
        }
    }

    /// Peers the configuration leaves unset are at `url` (the all-in-one
    /// process's own port, or a test's server). That server has this
    /// configuration, so when it serves TLS an `http://` URL is reached
    /// through `https://`.
    pub fn or_at(self, url: impl Into<String>) -> PeerClients {
        let url = url.into();
        let url = match url.strip_prefix("http://") {
            Some(rest) if self.tls.serves() => format!("https://{rest}"),
            _ => url,
        };
        PeerClients {
            fallback: Some(url),
            ..self
        }
    }

    /// Calls give up after `timeout` rather than the configured one.
    pub fn with_timeout(self, timeout: Duration) -> PeerClients {
        PeerClients { timeout, ..self }
    }

    /// Profiles. Ingestion resolves whole batches through it, so requests
    /// and answers may be as large as the messages the suite accepts.
    pub fn profiles(&self) -> anyhow::Result<ProfilesServiceClient<Channel>> {
        let channel = self.channel("profiles", &self.urls.profiles_url)?;
        Ok(ProfilesServiceClient::new(channel)
            .max_decoding_message_size(self.max_message_bytes)
            .max_encoding_message_size(self.max_message_bytes))
    }

    /// Scoring. The outbox relay sends it batches of at most
    /// [`rapport_proto::limits::APPLY_CHANGES_BATCH_BYTES`]; nothing larger
    /// than scoring decodes leaves this side. Its answers are small.
    pub fn scoring(&self) -> anyhow::Result<ScoringServiceClient<Channel>> {
        let channel = self.channel("scoring", &self.urls.scoring_url)?;
        Ok(ScoringServiceClient::new(channel)
            .max_encoding_message_size(rapport_proto::limits::APPLY_CHANGES_MAX_BYTES))
    }

    /// Notifications: rules send it one notification at a time, never more
    /// than it decodes.
    pub fn notifications(&self) -> anyhow::Result<NotificationsServiceClient<Channel>> {
        let channel = self.channel("notifications", &self.urls.notifications_url)?;
        Ok(NotificationsServiceClient::new(channel)
            .max_encoding_message_size(rapport_proto::limits::CONTROL_MAX_BYTES))
    }

    /// Ingestion: profiles asks it to export or erase one customer's
    /// activity; exports are bounded by their own row cap, not by the
    /// default 4 MiB answer size.
    pub fn ingestion(&self) -> anyhow::Result<IngestionServiceClient<Channel>> {
        let channel = self.channel("ingestion", &self.urls.ingestion_url)?;
        Ok(IngestionServiceClient::new(channel)
            .max_decoding_message_size(self.max_message_bytes)
            .max_encoding_message_size(rapport_proto::limits::CONTROL_MAX_BYTES))
    }

    /// A channel to peer `name` at its configured URL, else the fallback. A
    /// peer with neither gets an empty URL, which fails here, naming it.
    fn channel(&self, name: &str, configured: &Option<String>) -> anyhow::Result<Channel> {
        let url = configured.as_deref().or(self.fallback.as_deref());
        let url = url.unwrap_or_default();
        let made = match (self.urls.balance, configured) {
            // The fallback is this process's own port: nothing to balance.
            (true, Some(_)) => {
                let every = Duration::from_millis(self.urls.resolve_interval_ms);
                let (tls, timeout) = (self.tls.clone(), self.timeout);
                let host = url
                    .parse::<http::Uri>()
                    .ok()
                    .and_then(|u| u.host().map(str::to_owned));
                balanced_channel(url, every, system_resolver(), move |u| {
                    endpoint_for(u, &tls, timeout, host.as_deref())
                })
            }
            _ => channel(url, &self.tls, self.timeout),
        };
        made.with_context(|| format!("{name} url"))
    }
}

/// A channel to the service at `url` that connects on first use and
/// reconnects after failures. An `https://` URL is reached through TLS,
/// trusting only `tls.ca_file` and presenting `tls.client_cert_file` when
/// that is set.
pub fn channel(url: &str, tls: &Tls, timeout: Duration) -> anyhow::Result<Channel> {
    Ok(endpoint_for(url, tls, timeout, None)?.connect_lazy())
}

/// The endpoint of [`channel`]; through TLS, the server's certificate is
/// checked against `tls_name` when given (the peer's name, when `url` holds
/// one of the addresses it resolved to).
fn endpoint_for(
    url: &str,
    tls: &Tls,
    timeout: Duration,
    tls_name: Option<&str>,
) -> anyhow::Result<tonic::transport::Endpoint> {
    let mut endpoint = endpoint(url)?.timeout(timeout);
    if url.starts_with("https://") {
        let ca = tls
            .ca_pem()?
            .context("an https:// URL needs tls.ca_file, the CA its certificate chains to")?;
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        if let Some(pair) = tls.client_pem()? {
            config = config.identity(Identity::from_pem(pair.cert, pair.key));
        }
        if let Some(name) = tls_name {
            config = config.domain_name(name);
        }
        endpoint = endpoint.tls_config(config)?;
    }
    Ok(endpoint)
}
