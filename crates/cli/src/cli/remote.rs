//! The flags of every command that talks to a running suite: where it is
//! and the tenant's API key.

use anyhow::Context;

use crate::client::Clients;

/// The running suite a client command talks to.
#[derive(clap::Args)]
pub(super) struct Remote {
    /// Server to send to.
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
}

impl Remote {
    /// Clients of the suite, authenticated with the key.
    pub(super) fn clients(&self) -> anyhow::Result<Clients> {
        let key = self
            .api_key
            .as_deref()
            .context("an API key is needed: --api-key or RAPPORT_API_KEY")?;
        Clients::connect(&self.server, key)
    }
}
