//! `rapport tenant list|show|rename|disable|enable`: the operator's commands,
//! sent to `AdminService` of a running suite with the admin token, so that
//! they work from anywhere the suite's port is reachable (a laptop with a
//! port-forward to a Kubernetes Service) with no database credentials.

use std::path::PathBuf;

use crate::client::{Authed, admin_client, answer};
use anyhow::Context;
use rapport_kit::{config::Tls, paging::MAX_PAGE_SIZE};
use rapport_proto::v1::{
    DisableTenantRequest, EnableTenantRequest, GetTenantRequest, ListTenantsRequest,
    RenameTenantRequest, Tenant, admin_service_client::AdminServiceClient,
};

/// Where the suite is and the operator's credential.
#[derive(clap::Args)]
pub(in crate::cli) struct AdminRemote {
    /// Server to send to (any service's port); `https://…` speaks TLS.
    #[arg(long, env = "RAPPORT_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The operator's admin token (as the servers' RAPPORT_ADMIN_TOKEN).
    #[arg(long, env = "RAPPORT_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// PEM file of the CA an `https://` server's certificate chains to;
    /// without it, the bundled public roots are trusted.
    #[arg(long, env = "RAPPORT_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// PEM certificate presented to an `https://` server that requires
    /// client certificates; with --client-key.
    #[arg(long, env = "RAPPORT_CLIENT_CERT")]
    client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, env = "RAPPORT_CLIENT_KEY")]
    client_key: Option<PathBuf>,
}

type Client = AdminServiceClient<Authed>;

impl AdminRemote {
    fn client(&self) -> anyhow::Result<Client> {
        let token = self
            .admin_token
            .as_deref()
            .context("the admin token is needed: --admin-token or RAPPORT_ADMIN_TOKEN")?;
        anyhow::ensure!(
            self.client_cert.is_some() == self.client_key.is_some(),
            "--client-cert and --client-key (RAPPORT_CLIENT_CERT, RAPPORT_CLIENT_KEY) go together"
        );
        let tls = Tls {
            ca_file: self.ca_cert.clone(),
            client_cert_file: self.client_cert.clone(),
            client_key_file: self.client_key.clone(),
            ..Tls::default()
        };
        admin_client(&self.server, token, &tls)
    }
}

/// One of the operator's commands.
pub(in crate::cli) enum AdminCommand {
    List,
    Show(String),
    Rename(String, String),
    Disable(String, String),
    Enable(String),
}

/// Runs `command` against the suite `remote` names.
pub(in crate::cli) async fn run(command: AdminCommand, remote: &AdminRemote) -> anyhow::Result<()> {
    let mut client = remote.client()?;
    match command {
        AdminCommand::List => list(&mut client).await,
        AdminCommand::Show(tenant) => {
            let tenant = find(&mut client, &tenant).await?;
            for (field, value) in fields(&tenant) {
                println!("{field:<16} {value}");
            }
            Ok(())
        }
        AdminCommand::Rename(tenant, name) => {
            let Tenant {
                id, name: before, ..
            } = find(&mut client, &tenant).await?;
            let answer = answer(
                client
                    .rename_tenant(RenameTenantRequest {
                        tenant_id: id.clone(),
                        name: name.clone(),
                    })
                    .await,
            )?;
            if answer.changed {
                println!("renamed tenant {id} from {before} to {name}");
            } else {
                println!("tenant {id} is already named {name}; nothing changed");
            }
            Ok(())
        }
        AdminCommand::Disable(tenant, reason) => {
            let found = find(&mut client, &tenant).await?;
            let answer = answer(
                client
                    .disable_tenant(DisableTenantRequest {
                        tenant_id: found.id.clone(),
                        reason,
                    })
                    .await,
            )?;
            let t = answer.tenant.unwrap_or_default();
            if answer.changed {
                println!(
                    "disabled tenant {} ({}): its keys are refused within a second",
                    t.name, t.id
                );
            } else {
                println!(
                    "tenant {} ({}) was already disabled since {}; nothing changed",
                    t.name,
                    t.id,
                    time(t.disabled_at.as_ref())
                );
            }
            Ok(())
        }
        AdminCommand::Enable(tenant) => {
            let found = find(&mut client, &tenant).await?;
            let answer = answer(
                client
                    .enable_tenant(EnableTenantRequest {
                        tenant_id: found.id.clone(),
                    })
                    .await,
            )?;
            let t = answer.tenant.unwrap_or_default();
            if answer.changed {
                println!("enabled tenant {} ({}): its keys work again", t.name, t.id);
            } else {
                println!(
                    "tenant {} ({}) was not disabled; nothing changed",
                    t.name, t.id
                );
            }
            Ok(())
        }
    }
}

/// A tenant by id, or else by name.
async fn find(client: &mut Client, tenant: &str) -> anyhow::Result<Tenant> {
    let request = if uuid::Uuid::parse_str(tenant).is_ok() {
        GetTenantRequest {
            tenant_id: tenant.to_owned(),
            name: String::new(),
        }
    } else {
        GetTenantRequest {
            tenant_id: String::new(),
            name: tenant.to_owned(),
        }
    };
    answer(client.get_tenant(request).await)?
        .tenant
        .context("the server answered no tenant")
}

async fn list(client: &mut Client) -> anyhow::Result<()> {
    let mut token = String::new();
    println!(
        "{}",
        line(["id", "name", "currency", "created", "keys", "status"].map(str::to_owned))
    );
    loop {
        let page = answer(
            client
                .list_tenants(ListTenantsRequest {
                    page_size: MAX_PAGE_SIZE as i32,
                    page_token: token,
                })
                .await,
        )?;
        for t in &page.tenants {
            let keys = format!("{}/{}", t.active_keys, t.revoked_keys);
            println!(
                "{}",
                line([
                    t.id.clone(),
                    t.name.clone(),
                    t.currency_code.clone(),
                    time(t.created_at.as_ref()),
                    keys,
                    status(t),
                ])
            );
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        token = page.next_page_token;
    }
}

/// One line of the tenant table.
fn line([id, name, currency, created, keys, status]: [String; 6]) -> String {
    format!("{id:<36}  {name:<24}  {currency:<8}  {created:<19}  {keys:<9}  {status}")
}

fn status(t: &Tenant) -> String {
    match &t.disabled_at {
        None => "enabled".to_owned(),
        Some(at) => format!("disabled since {} ({})", time(Some(at)), t.disabled_reason),
    }
}

fn fields(t: &Tenant) -> Vec<(&'static str, String)> {
    vec![
        ("id", t.id.clone()),
        ("name", t.name.clone()),
        ("currency", t.currency_code.clone()),
        ("created", time(t.created_at.as_ref())),
        ("status", status(t)),
        ("active keys", t.active_keys.to_string()),
        ("revoked keys", t.revoked_keys.to_string()),
    ]
}

fn time(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".to_owned())
}
