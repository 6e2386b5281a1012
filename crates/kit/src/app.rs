//! What every Rapport process does before and after serving: configuration,
//! telemetry, the tenant registry, authentication, signals.

use std::net::SocketAddr;

use crate::{
    auth::{Admin, Authenticator, Keys},
    config::{Config, Role, RoleSet},
    db::Db,
    internal::{InternalCredentials, Shape, credentials},
    server::{HealthCheck, Server, db_check},
    shutdown::Shutdown,
    tenants::{self, TenantStore},
};

/// A process's shared parts.
pub struct App {
    /// The loaded configuration.
    pub config: Config,
    /// Fired by SIGTERM/SIGINT.
    pub shutdown: Shutdown,
    /// The tenant registry's pool.
    pub tenants_db: Db,
    /// Resolves credentials.
    pub auth: Authenticator,
    /// The credential to call other services with.
    pub internal: InternalCredentials,
}

impl App {
    /// Builds the shared parts from a loaded configuration. `split` is true
    /// for a process of the one-service-per-process shape that serves no one
    /// service in particular, where every internal credential must be
    /// configured; otherwise (all four services in this process) one is
    /// generated unless configured.
    pub fn new(config: Config, split: bool) -> anyhow::Result<App> {
        let shape = if split { Shape::Split } else { Shape::AllInOne };
        App::with_shape(config, shape)
    }

    /// The parts of the one-service process `service` ("profiles",
    /// "ingestion", "scoring" or "notifications"): it presents its own
    /// internal credential and accepts those of the services that call it.
    pub fn for_service(config: Config, service: &str) -> anyhow::Result<App> {
        App::with_shape(config, Shape::Service(service))
    }

    fn with_shape(config: Config, shape: Shape<'_>) -> anyhow::Result<App> {
        crate::telemetry::init_full(
            config.log_format,
            "info,sqlx=warn",
            config.otlp_endpoint.as_deref(),
        );
        let (accepted, internal) = credentials(&config, shape)?;
        let tenants_db = Db::connect_lazy(&config, tenants::SCHEMA)?;
        let listen_on = Db::listen_pool(&config, tenants::SCHEMA, &tenants_db)?;
        let auth = Authenticator::with_admin(
            TenantStore::new(tenants_db.clone()).listening_on(listen_on),
            accepted,
            config.admin_token.as_ref(),
        );
        Ok(App {
            config,
            shutdown: Shutdown::new(),
            tenants_db,
            auth,
            internal,
        })
    }

    /// Loads configuration from the process environment (and `RAPPORT_CONFIG`)
    /// with flag overrides, then builds the shared parts.
    pub fn from_env(overrides: &[(&str, String)], split: bool) -> anyhow::Result<App> {
        let config = Config::from_env(None, overrides)?;
        App::new(config, split)
    }

    /// A server whose services all depend on the tenant registry, serving
    /// the tenants' management of their own keys and the operator's of the
    /// tenants beside them. Starts hearing of key changes other processes
    /// make.
    pub fn server(&self) -> Server {
        self.auth.watch();
        let mut server = Server::new(&self.config, self.auth.clone());
        server.add_service(Keys::service(self.auth.tenants().clone()), Vec::new());
        server.add_service(Admin::service(self.auth.tenants().clone()), Vec::new());
        server.add_shared_check(db_check(
            self.tenants_db.clone(),
            tenants::SCHEMA,
            tenants::MIGRATIONS,
        ));
        server
    }

    /// A server for a process that runs only workers (no `serve` role): it
    /// answers gRPC health checks on `listen`, SERVING once the tenant
    /// registry and every one of `checks` answer, and serves metrics, but no
    /// API.
    pub fn health_server(&self, checks: Vec<HealthCheck>) -> Server {
        let mut server = Server::new(&self.config, self.auth.clone());
        server.add_shared_check(db_check(
            self.tenants_db.clone(),
            tenants::SCHEMA,
            tenants::MIGRATIONS,
        ));
        for check in checks {
            server.add_shared_check(check);
        }
        server
    }

    /// The server of a process running `roles`: [`App::server`] when it
    /// serves the API (the caller adds its services, with their own checks),
    /// else [`App::health_server`] reporting on `check`.
    pub fn server_for(&self, roles: &RoleSet, check: HealthCheck) -> Server {
        if roles.has(Role::Serve) {
            self.server()
        } else {
            self.health_server(vec![check])
        }
    }

    /// Of `service`'s roles `own`, those the configured `roles` select for
    /// this process; refused, naming the setting, when it names a role
    /// `service` does not have.
    pub fn roles(&self, service: &str, own: &[Role]) -> anyhow::Result<RoleSet> {
        let set = self
            .config
            .roles
            .of(service, own)
            .map_err(anyhow::Error::msg)?;
        tracing::info!(roles = %set, "{service} process roles");
        Ok(set)
    }

    /// A pool for a service's own schema.
    pub fn db(&self, schema: &'static str) -> anyhow::Result<Db> {
        Ok(Db::connect_lazy(&self.config, schema)?)
    }

    /// Where `schema`'s `LISTEN`s go (see [`Db::listen_pool`]); `None`: poll.
    pub fn listen_pool(
        &self,
        schema: &'static str,
        primary: &Db,
    ) -> anyhow::Result<Option<sqlx::PgPool>> {
        Ok(Db::listen_pool(&self.config, schema, primary)?)
    }

    /// The pool whole-tenant reads of `schema` use: the replica at
    /// `database_read_url` when one is configured, else `primary`.
    pub fn read_db(&self, schema: &'static str, primary: &Db) -> anyhow::Result<Db> {
        Ok(Db::connect_replica(&self.config, schema)?.unwrap_or_else(|| primary.clone()))
    }

    /// The configured URL of peer `name` ("profiles", "scoring" or
    /// "notifications").
    pub fn peer_url(&self, name: &str) -> Option<&str> {
        let peers = &self.config.peers;
        match name {
            "profiles" => peers.profiles_url.as_deref(),
            "scoring" => peers.scoring_url.as_deref(),
            "notifications" => peers.notifications_url.as_deref(),
            "ingestion" => peers.ingestion_url.as_deref(),
            _ => None,
        }
    }

    /// Fails, naming every missing setting in one line, unless all of
    /// `names` have a configured URL.
    pub fn require_peers(&self, service: &str, names: &[&str]) -> anyhow::Result<()> {
        let missing: Vec<String> = names
            .iter()
            .filter(|n| self.peer_url(n).is_none())
            .map(|n| format!("RAPPORT_PEERS__{}_URL", n.to_uppercase()))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        anyhow::bail!(
            "{service} needs to know where {} listen: set {}",
            names.join(" and "),
            missing.join(" and ")
        )
    }

    /// Binds the configured address.
    pub async fn bind(&self) -> anyhow::Result<(tokio::net::TcpListener, SocketAddr)> {
        let listener = tokio::net::TcpListener::bind(self.config.listen).await?;
        let addr = listener.local_addr()?;
        Ok((listener, addr))
    }
}

/// Flags every service binary takes; everything else comes from `RAPPORT_*`
/// variables or the config file.
#[derive(Debug, clap::Parser)]
#[command(
    version,
    about = "A Rapport service; configured by RAPPORT_* variables, a TOML file and these flags"
)]
pub struct ServiceArgs {
    /// TOML configuration file.
    #[arg(long, env = "RAPPORT_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    /// Address to listen on.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Log format: pretty or json.
    #[arg(long)]
    pub log_format: Option<String>,
}

impl App {
    /// Parses [`ServiceArgs`] from the command line and builds the parts of
    /// the one-service process `name` (described by `about`), whose `--help`
    /// lists the settings it needs, with those of the `peers` it calls.
    pub fn from_args_of(about: &str, name: &str, peers: &[&str]) -> anyhow::Result<App> {
        use clap::{CommandFactory, FromArgMatches};
        let mut needs = String::from(
            "Needs RAPPORT_DATABASE_URL (Postgres) or RAPPORT_DATA_DIR (SQLite), and the internal credentials: RAPPORT_INTERNAL_TOKENS__<SERVICE> of this service and of those calling it (or RAPPORT_INTERNAL_TOKEN for all)",
        );
        for peer in peers {
            needs.push_str(&format!(
                ",\nRAPPORT_PEERS__{}_URL (where {peer} listens)",
                peer.to_uppercase()
            ));
        }
        needs.push('.');
        let matches = ServiceArgs::command()
            .about(format!(
                "{about}; configured by RAPPORT_* variables, a TOML file and these flags"
            ))
            .after_help(needs)
            .get_matches();
        let args = match ServiceArgs::from_arg_matches(&matches) {
            Ok(args) => args,
            Err(e) => e.exit(),
        };
        let mut overrides: Vec<(&str, String)> = Vec::new();
        if let Some(l) = args.listen {
            overrides.push(("listen", l.to_string()));
        }
        if let Some(f) = args.log_format {
            overrides.push(("log_format", f));
        }
        let config = Config::from_env(args.config.as_deref(), &overrides)?;
        App::for_service(config, name)
    }
}

/// A service's whole `main`: `service_main!("about", rapport_x)` runs
/// `rapport_x::serve` with the peer URLs `rapport_x::PEERS` names.
#[macro_export]
macro_rules! service_main {
    ($about:literal, $service:ident) => {
        fn main() -> ::std::process::ExitCode {
            $crate::app::service_main(
                $about,
                stringify!($service),
                $service::PEERS,
                $service::serve,
            )
        }
    };
}

/// The whole `main` of a one-service binary (of crate `rapport_<service>`):
/// parses its flags and settings ([`App::from_args_of`]), runs `serve` on a
/// multi-threaded runtime, and ends as [`exit`] does.
pub fn service_main<F, Fut>(
    about: &str,
    krate: &str,
    peers: &[&str],
    serve: F,
) -> std::process::ExitCode
where
    F: FnOnce(App) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            let name = krate.strip_prefix("rapport_").unwrap_or(krate);
            runtime.block_on(async { serve(App::from_args_of(about, name, peers)?).await })
        });
    exit(result)
}

/// Ends a process: an error is one line on standard error (its causes
/// joined), with the backtrace and the full chain only when `RUST_LOG` asks
/// for debug output, and exit code 1.
pub fn exit(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let verbose = std::env::var("RUST_LOG")
                .map(|v| v.contains("debug") || v.contains("trace"))
                .unwrap_or(false);
            if verbose {
                eprintln!("error: {error:?}");
            } else {
                eprintln!("error: {error:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
