//! The command line: what each `rapport` subcommand accepts, and the one
//! place that turns it into a call of the library part that does the work.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rapport_kit::config::Config;

use crate::{
    audit::AuditCommand, changes::ChangesCommand, customers::CustomersCommand,
    endpoints::EndpointsCommand, notifications::NotificationsCommand, rules::RulesCommand,
    templates::TemplatesCommand,
};

mod bench;
mod demo;
mod import;
mod remote;
mod serve;
mod tenant;
mod verify;

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
    Up(serve::UpArgs),
    /// Runs one service as its own process (the production shape), as its
    /// own binary would: `rapport serve scoring` is `rapport-scoring`.
    Serve(serve::ServeArgs),
    /// Benchmarks the suite: starts it, loads a seeded population, runs every
    /// scenario beside its baseline and prints the figures and ratios (also
    /// as JSON).
    Bench(crate::bench::args::BenchArgs),
    /// Applies every service's database migrations and exits.
    Migrate,
    /// Tenants and their API keys; the operator's list, show, rename,
    /// disable and enable.
    Tenant {
        #[command(subcommand)]
        command: tenant::TenantCommand,
    },
    /// Imports an ERP CSV export through the gRPC API.
    Import(import::ImportArgs),
    /// Business rules: validate, dry-run, create, update, publish, roll back,
    /// and what they did.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Message templates: save from files, list, preview for a customer.
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Notifications sent, suppressed or waiting, with their delivery attempts.
    Notifications {
        #[command(subcommand)]
        command: NotificationsCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Integration endpoints: the tenant's own systems rules post events to.
    Endpoints {
        #[command(subcommand)]
        command: EndpointsCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// The score change feed: watch it as JSON lines, or subscribe an
    /// integration endpoint to it.
    Changes {
        #[command(subcommand)]
        command: ChangesCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Reports: breakdowns by region, industry, age band, gender, kind,
    /// tier, segment, lifecycle, cohort and parent account; months; cohort
    /// retention; rankings. As CSV.
    Report {
        #[command(subcommand)]
        command: crate::report::ReportCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// B2B opportunities: the pipeline with conversion probabilities and
    /// expected values, and its roll-up by tier, parent or account. As CSV.
    Opportunities {
        #[command(subcommand)]
        command: crate::opportunities::OpportunitiesCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Loyalty points: the programme's terms, and a customer's balance,
    /// ledger (CSV), redemptions and adjustments.
    Points {
        #[command(subcommand)]
        command: crate::points::PointsCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// The tenant's audit trail: who changed settings, rules, templates,
    /// the contact policy, endpoints, consent and keys.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// One customer's data under GDPR: export it as JSON, or erase it in
    /// every service.
    Customers {
        #[command(subcommand)]
        command: CustomersCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Checks what the suite stored against a recomputation.
    Verify {
        #[command(subcommand)]
        command: verify::VerifyCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Starts the suite on the embedded default, loads a generated sample
    /// through the API and shows the scores.
    Demo(demo::DemoArgs),
    /// Prints the contracts for other clients: the OpenAPI 3.1 document of
    /// the JSON calls (what every port serves at /openapi.json), or the
    /// binary FileDescriptorSet of the .proto files (for grpcurl -protoset
    /// or a Connect client built at run time).
    Contracts {
        /// `openapi` or `descriptors`.
        #[arg(value_enum)]
        what: Contracts,
    },
}

/// What `rapport contracts` prints.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Contracts {
    /// The OpenAPI 3.1 document, as JSON.
    Openapi,
    /// The FileDescriptorSet, binary.
    Descriptors,
}

fn contracts(what: Contracts) -> anyhow::Result<()> {
    use std::io::Write as _;
    let bytes = match what {
        Contracts::Openapi => {
            let pool = rapport_kit::server::json::pool();
            let mut doc =
                serde_json::to_vec_pretty(&rapport_kit::server::json::openapi::document(pool))?;
            doc.push(b'\n');
            doc
        }
        Contracts::Descriptors => rapport_proto::FILE_DESCRIPTOR_SET.to_vec(),
    };
    std::io::stdout().lock().write_all(&bytes)?;
    Ok(())
}

/// Parses the process's arguments and runs the command they name.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Each command loads the configuration only if it needs it, with its
    // own flags on top, so a client command never fails on a server setting.
    let load = |overrides: &[(&str, String)]| -> anyhow::Result<Config> {
        Ok(Config::from_env(cli.config.as_deref(), overrides)?)
    };
    match cli.command {
        Command::Up(args) => serve::up(args, cli.config.as_deref(), load).await,
        Command::Serve(args) => serve::serve(args, load).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Migrate => serve::migrate(load(&[])?).await,
        Command::Tenant { command } => tenant::run(command, || load(&[])).await,
        Command::Import(args) => import::run(args).await,
        Command::Rules { command, remote } => {
            crate::rules::run(&mut remote.clients()?, command).await
        }
        Command::Templates { command, remote } => {
            crate::templates::run_templates(&mut remote.clients()?, command).await
        }
        Command::Notifications { command, remote } => {
            crate::notifications::run_notifications(&mut remote.clients()?, command).await
        }
        Command::Endpoints { command, remote } => {
            crate::endpoints::run(&mut remote.clients()?, command).await
        }
        Command::Changes { command, remote } => {
            crate::changes::run(&mut remote.clients()?, command).await
        }
        Command::Report { command, remote } => {
            crate::report::run(&mut remote.clients()?, command).await
        }
        Command::Opportunities { command, remote } => {
            crate::opportunities::run(&mut remote.clients()?, command).await
        }
        Command::Points { command, remote } => {
            crate::points::run(&mut remote.clients()?, command).await
        }
        Command::Audit { command, remote } => {
            crate::audit::run(&mut remote.clients()?, command).await
        }
        Command::Customers { command, remote } => {
            crate::customers::run(&mut remote.clients()?, command).await
        }
        Command::Verify { command, remote } => verify::run(command, remote.clients()?).await,
        Command::Demo(args) => demo::run(args, load(&[])?).await,
        Command::Contracts { what } => contracts(what),
    }
}
