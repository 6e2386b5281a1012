//! The flags of every command that talks to a running suite: where it is,
//! the tenant's API key, and for an `https://` suite the CA to trust and the
//! client certificate to present.

use std::path::PathBuf;

use anyhow::Context;
use rapport_kit::config::Tls;

use crate::client::Clients;

/// The running suite a client command talks to.
#[derive(clap::Args)]
pub(super) struct Remote {
    /// Server to send to; `https://…` speaks TLS.
    #[arg(
        long,
        global = true,
        env = "RAPPORT_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,
    /// The tenant's API key.
    #[arg(long, global = true, env = "RAPPORT_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// PEM file of the CA an `https://` server's certificate chains to;
    /// without it, the bundled public roots are trusted.
    #[arg(long, global = true, env = "RAPPORT_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// PEM certificate presented to an `https://` server that requires client
    /// certificates (mutual TLS); with --client-key.
    #[arg(long, global = true, env = "RAPPORT_CLIENT_CERT")]
    client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, global = true, env = "RAPPORT_CLIENT_KEY")]
    client_key: Option<PathBuf>,
}

impl Remote {
    /// Clients of the suite, authenticated with the key.
    pub(super) fn clients(&self) -> anyhow::Result<Clients> {
        let key = self
            .api_key
            .as_deref()
            .context("an API key is needed: --api-key or RAPPORT_API_KEY")?;
        if !self.server.starts_with("https://") {
            return Clients::connect(&self.server, key);
        }
        Clients::connect_over(&self.server, key, &self.tls()?)
    }

    /// What the client trusts and presents over TLS; each file is read now,
    /// so a missing one is named before anything is sent.
    fn tls(&self) -> anyhow::Result<Tls> {
        anyhow::ensure!(
            self.client_cert.is_some() == self.client_key.is_some(),
            "--client-cert and --client-key (RAPPORT_CLIENT_CERT, RAPPORT_CLIENT_KEY) go together"
        );
        for (flag, path) in [
            ("--ca-cert", &self.ca_cert),
            ("--client-cert", &self.client_cert),
            ("--client-key", &self.client_key),
        ] {
            if let Some(path) = path {
                std::fs::metadata(path).with_context(|| format!("{flag} {}", path.display()))?;
            }
        }
        Ok(Tls {
            ca_file: self.ca_cert.clone(),
            client_cert_file: self.client_cert.clone(),
            client_key_file: self.client_key.clone(),
            ..Tls::default()
        })
    }
}
