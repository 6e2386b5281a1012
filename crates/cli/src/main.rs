//! `rapport`: run the suite, manage tenants, import CSV, run the demo.
#![forbid(unsafe_code)]

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use rapport::{
    client::Clients,
    demo::{self, DemoOptions},
    import::{self, ImportOptions, ImportSummary},
    rules::RulesCommand,
    split,
    suite::{self, Suite},
    templates::{self, NotificationsCommand, TemplatesCommand},
};
use rapport_kit::{app::App, config::Config};

#[derive(Parser)]
#[command(
    name = "rapport",
    version,
    about = "Rapport: customer scoring as gRPC services"
)]
struct Cli {
    /// TOML configuration file (below RAPPORT_* variables and flags).
    #[arg(long, global = true, env = "RAPPORT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs all four services in one process on one port. Without
    /// DATABASE_URL the data lives in SQLite files under RAPPORT_DATA_DIR and
    /// scores are cached in process; with DATABASE_URL=postgres://… and
    /// REDIS_URL=redis://… it is the production shape.
    Up {
        /// Address to listen on (default 127.0.0.1:50051).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Runs the four services as separate processes instead (the
        /// production topology on one machine): profiles on the listen
        /// port + 10, ingestion + 11, scoring + 12, notifications + 13, each
        /// told where its peers are, all with one internal credential
        /// (RAPPORT_INTERNAL_TOKEN, generated when unset); stops them together.
        #[arg(long)]
        split: bool,
    },
    /// Runs one service as its own process (the production shape), as its
    /// own binary would: `rapport serve scoring` is `rapport-scoring`.
    Serve {
        /// Which service.
        #[arg(value_enum)]
        service: split::Service,
        /// Address to listen on.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Benchmarks the suite: starts it, loads a seeded population, runs every
    /// scenario beside its baseline and prints the figures and ratios (also
    /// as JSON).
    Bench(rapport::bench::args::BenchArgs),
    /// Applies every service's database migrations and exits.
    Migrate,
    /// Tenants and their API keys.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Imports an ERP CSV export through the gRPC API.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
        #[command(flatten)]
        remote: Remote,
        /// Source system name for rows without a `source` column.
        #[arg(long, global = true, default_value = "erp")]
        source: String,
        /// Rows per request.
        #[arg(long, global = true, default_value_t = 1000)]
        batch_size: usize,
    },
    /// Business rules: validate, dry-run, create, update, publish, roll back,
    /// and what they did.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Message templates: save from files, list, preview for a customer.
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Notifications sent, suppressed or waiting, with their delivery attempts.
    Notifications {
        #[command(subcommand)]
        command: NotificationsCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Starts the suite on the embedded default, loads a generated sample
    /// through the API and shows the scores.
    Demo {
        /// Customers to generate.
        #[arg(long, default_value_t = 3000)]
        customers: usize,
        /// Months of transactions.
        #[arg(long, default_value_t = 15)]
        months: u32,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

/// The running suite a client command talks to.
#[derive(clap::Args)]
struct Remote {
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
    fn clients(&self) -> anyhow::Result<Clients> {
        let key = self
            .api_key
            .as_deref()
            .context("an API key is needed: --api-key or RAPPORT_API_KEY")?;
        Clients::connect(&self.server, key)
    }
}

#[derive(Subcommand)]
enum TenantCommand {
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

#[derive(Subcommand)]
enum ImportWhat {
    /// customers.csv: customer_id, source, name, kind, email, phone, parent_id,
    /// consent_email, consent_sms, consent_webhook, then any attribute columns.
    Customers {
        /// The CSV file.
        file: PathBuf,
    },
    /// transactions.csv: transaction_id, customer_id, source, kind,
    /// occurred_at, amount, currency, margin, cost, category.
    Transactions {
        /// The CSV file.
        file: PathBuf,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rapport_kit::app::exit(run().await)
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let load = |overrides: &[(&str, String)]| -> anyhow::Result<Config> {
        Ok(Config::from_env(cli.config.as_deref(), overrides)?)
    };
    match cli.command {
        Command::Up {
            listen,
            split: true,
        } => {
            let config = load(&[])?;
            rapport_kit::telemetry::init(config.log_format);
            let base = listen.unwrap_or(config.listen);
            split::run(base, cli.config.as_deref()).await
        }
        Command::Serve { service, listen } => {
            let overrides: Vec<(&str, String)> = listen
                .map(|l| ("listen", l.to_string()))
                .into_iter()
                .collect();
            let app = App::new(load(&overrides)?, true)?;
            split::serve(service, app).await
        }
        Command::Bench(args) => {
            rapport_kit::telemetry::init_with(rapport_kit::config::LogFormat::Pretty, "warn");
            // Ctrl-C drops the run, and with it the processes it started
            // (they would otherwise outlive it); the run's database stays.
            tokio::select! {
                result = rapport::bench::run(args.into_options()?) => result.map(|_| ()),
                _ = tokio::signal::ctrl_c() => {
                    anyhow::bail!("interrupted: the suite was stopped; the run's database (rapport_bench_…) is left for you to drop")
                }
            }
        }
        Command::Up { listen, .. } => {
            let overrides: Vec<(&str, String)> = listen
                .map(|l| ("listen", l.to_string()))
                .into_iter()
                .collect();
            let config = load(&overrides)?;
            let suite = Suite::start(config).await?;
            suite.wait_ready(Duration::from_secs(60)).await?;
            tracing::info!(url = %suite.url(), "rapport is up");
            suite.run_until_signal().await
        }
        Command::Migrate => {
            let config = load(&[])?;
            rapport_kit::telemetry::init(config.log_format);
            suite::migrate(config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Tenant { command } => {
            let app = App::new(load(&[])?, false)?;
            app.tenants_db
                .migrate(
                    rapport_kit::tenants::SCHEMA,
                    &rapport_kit::tenants::MIGRATIONS,
                )
                .await?;
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
        Command::Import {
            what,
            remote,
            source,
            batch_size,
        } => {
            anyhow::ensure!(
                (1..=5000).contains(&batch_size),
                "--batch-size must be within 1..=5000"
            );
            let mut clients = remote.clients()?;
            let opts = ImportOptions {
                source,
                batch_size,
                progress: true,
            };
            let (label, summary) = match what {
                ImportWhat::Customers { file } => (
                    "customers",
                    import::import_customers(&mut clients, &file, &opts).await?,
                ),
                ImportWhat::Transactions { file } => (
                    "transactions",
                    import::import_transactions(&mut clients, &file, &opts).await?,
                ),
            };
            print_summary(label, &summary);
            Ok(())
        }
        Command::Rules { command, remote } => {
            rapport::rules::run(&mut remote.clients()?, command).await
        }
        Command::Templates { command, remote } => {
            templates::run_templates(&mut remote.clients()?, command).await
        }
        Command::Notifications { command, remote } => {
            templates::run_notifications(&mut remote.clients()?, command).await
        }
        Command::Demo {
            customers,
            months,
            seed,
        } => {
            let config = load(&[])?;
            // The demo's report is the output; only warnings go to the log.
            rapport_kit::telemetry::init_with(rapport_kit::config::LogFormat::Pretty, "warn");
            demo::run(
                config,
                &DemoOptions {
                    customers,
                    months,
                    seed,
                },
            )
            .await
        }
    }
}

fn print_summary(what: &str, s: &ImportSummary) {
    println!("{what}: {} rows read", s.rows);
    println!("  stored     {}", s.stored);
    if what == "customers" {
        println!("  updated    {}", s.updated);
    } else {
        println!(
            "  new customers created from unknown ids {}",
            s.customers_created
        );
    }
    println!("  unchanged  {}", s.unchanged);
    println!(
        "  rejected   {} rows ({} problems)",
        s.rejected_rows(),
        s.rejected.len()
    );
    for r in s.rejected.iter().take(20) {
        println!("    line {}: {}: {}", r.line, r.field, r.reason);
    }
    if s.rejected.len() > 20 {
        println!("    … and {} more", s.rejected.len() - 20);
    }
}
