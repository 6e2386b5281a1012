//! `rapport tenant`: creates tenants and manages their API keys, straight on
//! the tenant registry (no running suite needed). Keys are named by id and
//! prefix; a key itself is shown once, when issued. Listing, showing,
//! renaming, disabling and enabling tenants go to a running suite's
//! `AdminService` with the admin token instead (see `admin`).

use anyhow::Context;
use clap::Subcommand;
use rapport_kit::{
    app::App,
    config::Config,
    paging::MAX_PAGE_SIZE,
    tenants::{ApiKey, TenantStore},
};
use uuid::Uuid;

mod admin;

use admin::{AdminCommand, AdminRemote};

#[derive(Subcommand)]
pub(super) enum TenantCommand {
    /// Creates a tenant and prints its first API key.
    Create {
        /// Unique tenant name.
        name: String,
        /// ISO 4217 currency the tenant books in.
        #[arg(long, default_value = "EUR")]
        currency: String,
    },
    /// Issues another API key for a tenant (as `tenant keys create`).
    Key(CreateKey),
    /// A tenant's API keys: list, create, revoke.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Lists every tenant: id, name, currency, created, keys (active/revoked),
    /// status. Asks a running suite, with the admin token.
    List {
        #[command(flatten)]
        remote: AdminRemote,
    },
    /// Shows one tenant, by name or id. Asks a running suite, with the admin
    /// token.
    Show {
        /// Tenant name or id.
        tenant: String,
        #[command(flatten)]
        remote: AdminRemote,
    },
    /// Renames a tenant; its current name again changes nothing. Asks a
    /// running suite, with the admin token.
    Rename {
        /// Tenant name or id.
        tenant: String,
        /// The new name.
        name: String,
        #[command(flatten)]
        remote: AdminRemote,
    },
    /// Disables a tenant: every server refuses its keys within a second;
    /// work it queued before is left to finish. Asks a running suite, with
    /// the admin token.
    Disable {
        /// Tenant name or id.
        tenant: String,
        /// Why, for the tenant's audit trail (which the tenant reads too).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        remote: AdminRemote,
    },
    /// Enables a disabled tenant: its unrevoked keys work again. Asks a
    /// running suite, with the admin token.
    Enable {
        /// Tenant name or id.
        tenant: String,
        #[command(flatten)]
        remote: AdminRemote,
    },
}

#[derive(Subcommand)]
pub(super) enum KeysCommand {
    /// Lists a tenant's keys: id, prefix, label, created, last used, revoked.
    List {
        /// Tenant name.
        name: String,
    },
    /// Issues a key and prints it (shown once).
    Create(CreateKey),
    /// Revokes a key by id: every server refuses it within a second.
    /// Revoking a revoked key changes nothing.
    Revoke {
        /// The key's id, as `tenant keys list` shows it.
        id: String,
    },
}

#[derive(clap::Args)]
pub(super) struct CreateKey {
    /// Tenant name.
    name: String,
    /// A label to tell keys apart.
    #[arg(long, default_value = "cli")]
    label: String,
}

/// Runs one `rapport tenant` command: the operator's against a running
/// suite, the others against the registry the configuration `load` reads
/// names.
pub(super) async fn run(
    command: TenantCommand,
    load: impl FnOnce() -> anyhow::Result<Config>,
) -> anyhow::Result<()> {
    let (admin, remote) = match command {
        TenantCommand::List { remote } => (AdminCommand::List, remote),
        TenantCommand::Show { tenant, remote } => (AdminCommand::Show(tenant), remote),
        TenantCommand::Rename {
            tenant,
            name,
            remote,
        } => (AdminCommand::Rename(tenant, name), remote),
        TenantCommand::Disable {
            tenant,
            reason,
            remote,
        } => (AdminCommand::Disable(tenant, reason), remote),
        TenantCommand::Enable { tenant, remote } => (AdminCommand::Enable(tenant), remote),
        command => return on_registry(command, load()?).await,
    };
    admin::run(admin, &remote).await
}

/// Runs a command made straight on the registry `config` names.
async fn on_registry(command: TenantCommand, config: Config) -> anyhow::Result<()> {
    let app = App::new(config, false)?;
    crate::suite::migrate_tenants(&app).await?;
    let tenants = app.auth.tenants();
    let done = match command {
        TenantCommand::Create { name, currency } => create(tenants, &name, &currency).await,
        TenantCommand::Key(args)
        | TenantCommand::Keys {
            command: KeysCommand::Create(args),
        } => issue(tenants, &args).await,
        TenantCommand::Keys {
            command: KeysCommand::List { name },
        } => list(tenants, &name).await,
        TenantCommand::Keys {
            command: KeysCommand::Revoke { id },
        } => revoke(tenants, &id).await,
        _ => anyhow::bail!("this command goes to a running suite's AdminService"),
    };
    app.tenants_db.close().await;
    done
}

async fn create(tenants: &TenantStore, name: &str, currency: &str) -> anyhow::Result<()> {
    let (tenant, key) = tenants
        .create(name, currency)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "tenant {} ({}) books in {}",
        tenant.name, tenant.id, tenant.currency
    );
    println!("api key (shown once, store it now): {key}");
    Ok(())
}

async fn tenant_id(tenants: &TenantStore, name: &str) -> anyhow::Result<Uuid> {
    let tenant = tenants
        .by_name(name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(tenant
        .with_context(|| format!("no tenant is named {name:?}"))?
        .id)
}

async fn issue(tenants: &TenantStore, args: &CreateKey) -> anyhow::Result<()> {
    let id = tenant_id(tenants, &args.name).await?;
    rapport_kit::tenants::check_label(&args.label).map_err(|r| anyhow::anyhow!("label {r}"))?;
    let issued = tenants
        .issue_key(id, &args.label, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "key {} ({}) for {}",
        issued.key.id, issued.key.prefix, args.name
    );
    println!(
        "api key (shown once, store it now): {}",
        issued.secret.unwrap_or_default()
    );
    Ok(())
}

async fn list(tenants: &TenantStore, name: &str) -> anyhow::Result<()> {
    let id = tenant_id(tenants, name).await?;
    let mut keys = Vec::new();
    let mut token = String::new();
    loop {
        let (page, next) = tenants
            .list_keys(id, MAX_PAGE_SIZE, &token)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        keys.extend(page);
        if next.is_empty() {
            break;
        }
        token = next;
    }
    let header = ["id", "prefix", "label", "created", "last used", "revoked"];
    println!("{}", line(header.map(str::to_owned)));
    for key in &keys {
        println!("{}", line(columns(key)));
    }
    Ok(())
}

/// One line of the key table.
fn line([id, prefix, label, created, used, revoked]: [String; 6]) -> String {
    format!("{id:<36}  {prefix:<12}  {label:<20}  {created:<20}  {used:<20}  {revoked}")
}

fn columns(key: &ApiKey) -> [String; 6] {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".to_owned())
    };
    let prefix = if key.prefix.is_empty() {
        "-"
    } else {
        &key.prefix
    };
    [
        key.id.to_string(),
        prefix.to_owned(),
        key.label.clone(),
        time(Some(key.created_at)),
        time(key.last_used_at),
        time(key.revoked_at),
    ]
}

async fn revoke(tenants: &TenantStore, id: &str) -> anyhow::Result<()> {
    let id = Uuid::parse_str(id).context("a key id is a uuid, as `tenant keys list` shows")?;
    let key = tenants
        .key_by_id(id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("no key has id {id}"))?;
    let key = tenants
        .revoke_key(key.tenant_id, id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tenant = tenants
        .by_id(key.tenant_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map(|t| t.name)
        .unwrap_or_default();
    println!(
        "revoked key {} ({}, {}) of {tenant}",
        key.id, key.prefix, key.label
    );
    Ok(())
}
