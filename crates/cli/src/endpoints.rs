//! `rapport endpoints …`: the tenant's integration endpoints, the own
//! systems (a CRM, a data loader) that rules' webhook actions post to.

use anyhow::Context;
use clap::Subcommand;
use rapport_proto::v1::{
    DeleteIntegrationEndpointRequest, IntegrationEndpoint, ListIntegrationEndpointsRequest,
    PutIntegrationEndpointRequest,
};

use crate::client::{Clients, answer};

/// Where `rapport endpoints put` reads a new signing secret from, so it is
/// never on a command line (which other users of the machine may read).
pub const SECRET_ENV: &str = "RAPPORT_ENDPOINT_SECRET";

/// What `rapport endpoints` does.
#[derive(Debug, Subcommand)]
pub enum EndpointsCommand {
    /// Registers an endpoint or changes it; the same values again change
    /// nothing. A new endpoint needs a signing secret of 32 to 256
    /// characters (e.g. `openssl rand -hex 32`) in RAPPORT_ENDPOINT_SECRET;
    /// for an existing one, a secret there replaces the current one and
    /// none keeps it.
    Put {
        /// What rules name it by: 1-64 of a-z, 0-9, '-' and '_'.
        name: String,
        /// The http(s) URL events are POSTed to.
        #[arg(long)]
        url: String,
        /// For people.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Every endpoint, by name (secrets are never shown).
    List,
    /// Removes an endpoint; posts still queued for it are not sent.
    Delete {
        /// Its name.
        name: String,
    },
}

/// Runs one `rapport endpoints` command.
pub async fn run(clients: &mut Clients, command: EndpointsCommand) -> anyhow::Result<()> {
    match command {
        EndpointsCommand::Put {
            name,
            url,
            description,
        } => {
            let signing_secret = std::env::var(SECRET_ENV).unwrap_or_default();
            let r = answer(
                clients
                    .notifications
                    .put_integration_endpoint(PutIntegrationEndpointRequest {
                        endpoint: Some(IntegrationEndpoint {
                            name,
                            url,
                            description,
                            ..Default::default()
                        }),
                        signing_secret,
                    })
                    .await,
            )?;
            let e = r.endpoint.context("no endpoint in the answer")?;
            let what = if r.created {
                "registered"
            } else if r.changed {
                "changed"
            } else {
                "unchanged"
            };
            println!("{what}: endpoint {} posts to {}", e.name, e.url);
        }
        EndpointsCommand::List => {
            let r = answer(
                clients
                    .notifications
                    .list_integration_endpoints(ListIntegrationEndpointsRequest {})
                    .await,
            )?;
            for e in r.endpoints {
                println!("{:<24} {}  {}", e.name, e.url, e.description);
            }
        }
        EndpointsCommand::Delete { name } => {
            let r = answer(
                clients
                    .notifications
                    .delete_integration_endpoint(DeleteIntegrationEndpointRequest {
                        name: name.clone(),
                    })
                    .await,
            )?;
            if r.deleted {
                println!("deleted: endpoint {name}");
            } else {
                println!("no endpoint {name}: nothing to delete");
            }
        }
    }
    Ok(())
}
