//! `rapport tenant`: creates tenants and issues their API keys, straight on
//! the tenant registry (no running suite needed).

use clap::Subcommand;
use rapport_kit::{app::App, config::Config};

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
    /// Issues another API key for a tenant.
    Key {
        /// Tenant name.
        name: String,
        /// A label to tell keys apart.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

/// Runs one `rapport tenant` command against the registry `config` names.
pub(super) async fn run(command: TenantCommand, config: Config) -> anyhow::Result<()> {
    let app = App::new(config, false)?;
    crate::suite::migrate_tenants(&app).await?;
    let tenants = app.auth.tenants();
    match command {
        TenantCommand::Create { name, currency } => {
            let (tenant, key) = tenants
                .create(&name, &currency)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "tenant {} ({}) books in {}",
                tenant.name, tenant.id, tenant.currency
            );
            println!("api key (shown once, store it now): {key}");
        }
        TenantCommand::Key { name, label } => {
            let key = tenants
                .issue_key(&name, &label)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("api key for {name} (shown once): {key}");
        }
    }
    app.tenants_db.close().await;
    Ok(())
}
