//! Rapport scoring service: per-customer aggregates kept current as
//! ingestion's outbox relay delivers changes, scores served from a versioned
//! cache with the database behind it, and the customer-value science (RFM,
//! purchase and spend models, lifetime and past value, profit, share of
//! wallet, tiers, behaviour change) added to every score at read time from
//! per-tenant fits that a background job keeps current; and the business
//! rules over those scores (RulesService, [`spawn_rules`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod calc;
mod changes;
mod engine;
mod enrich;
mod equity;
mod exact;
mod histories;
mod hot;
mod models;
mod periods;
mod reads;
mod refresh;
mod repo;
mod routes;
mod rpc;
mod rules;
mod score;
mod service;
mod settings;
mod state;
mod tokens;

use std::sync::Arc;

use anyhow::Context;
use rapport_cache::{MemoryCache, RedisCache, VersionedCache};
use rapport_kit::{
    ApiError, Authenticator, Db,
    app::App,
    config::Config,
    db::{MigrationFile, Migrations},
    server::{Server, db_check},
    shutdown::Shutdown,
};
use rapport_proto::v1::{
    notifications_service_client::NotificationsServiceClient,
    profiles_service_client::ProfilesServiceClient, rules_service_server::RulesServiceServer,
    scoring_service_server::ScoringServiceServer,
};
use tonic::transport::Channel;

pub use engine::UNFITTABLE;
pub use refresh::RefreshOptions;
pub use rules::RulesOptions;

/// Schema (Postgres) or file name (SQLite) of the scoring store.
pub const SCHEMA: &str = "scoring";

/// Migrations of the scoring store.
pub const MIGRATIONS: Migrations = Migrations {
    postgres: &[
        MigrationFile {
            version: 1,
            description: "scores",
            sql: include_str!("../migrations/postgres/0001_scores.sql"),
        },
        MigrationFile {
            version: 2,
            description: "customer value",
            sql: include_str!("../migrations/postgres/0002_customer_value.sql"),
        },
        MigrationFile {
            version: 3,
            description: "rules",
            sql: include_str!("../migrations/postgres/0003_rules.sql"),
        },
        MigrationFile {
            version: 4,
            description: "refresh status",
            sql: include_str!("../migrations/postgres/0004_refresh_status.sql"),
        },
    ],
    sqlite: &[
        MigrationFile {
            version: 1,
            description: "scores",
            sql: include_str!("../migrations/sqlite/0001_scores.sql"),
        },
        MigrationFile {
            version: 2,
            description: "customer value",
            sql: include_str!("../migrations/sqlite/0002_customer_value.sql"),
        },
        MigrationFile {
            version: 3,
            description: "rules",
            sql: include_str!("../migrations/sqlite/0003_rules.sql"),
        },
        MigrationFile {
            version: 4,
            description: "refresh status",
            sql: include_str!("../migrations/sqlite/0004_refresh_status.sql"),
        },
    ],
};

/// Redis when `config.redis_url` is set (with a near cache of
/// `cache_memory_mb`, kept current through `{cache_prefix}:invalidations`),
/// else an in-process cache of that size. A score with its read-time
/// measures takes a few KiB, so the default 8 MiB keeps the two thousand or
/// so hottest customers, well inside the service's memory budget.
pub async fn cache_from_config(config: &Config) -> anyhow::Result<Arc<dyn VersionedCache>> {
    let bytes = config.cache_memory_mb as usize * (1 << 20);
    Ok(match &config.redis_url {
        Some(url) => {
            let channel = format!("{}:invalidations", config.cache_prefix);
            Arc::new(
                RedisCache::with_near(url.expose(), &channel, bytes)
                    .await
                    .context("redis cache")?,
            )
        }
        None => Arc::new(MemoryCache::with_max_bytes(bytes.max(1 << 20))),
    })
}

/// What the service and its background jobs share: made by [`add_to`],
/// taken by [`spawn_refresh`] and [`spawn_rules`].
#[derive(Clone)]
pub struct Handle {
    engine: engine::Engine,
    auth: Authenticator,
    db: Db,
    rules: rules::Rules,
}

/// Adds the service, RulesService and their health check (db_check) to
/// `server`. Cache keys start with `app.config.cache_prefix`; wallet
/// estimates are read from `profiles` with `app.internal` on every refresh
/// (FitModels and [`spawn_refresh`]); rules contact customers through
/// `notifications`.
pub fn add_to(
    server: &mut Server,
    app: &App,
    db: Db,
    cache: Arc<dyn VersionedCache>,
    profiles: ProfilesServiceClient<Channel>,
    notifications: NotificationsServiceClient<Channel>,
) -> Handle {
    let hot = hot::HotScores::new(cache, &app.config.cache_prefix);
    let scores = repo::ScoreRepo::new(db.clone());
    let models = repo::models::ModelRepo::new(db.clone());
    let states = state::TenantStates::new(models.clone());
    let reader = reads::Reader {
        repo: scores.clone(),
        hot: hot.clone(),
        states: states.clone(),
    };
    let engine = engine::Engine {
        scores,
        models,
        states,
        hot,
        wallets: engine::WalletSource {
            profiles,
            internal: app.internal.clone(),
        },
    };
    let rules = rules::Rules::new(
        db.clone(),
        reader.clone(),
        engine.clone(),
        notifications,
        app.internal.clone(),
        app.auth.clone(),
    );
    let service = routes::ScoringRoutes::new(
        ScoringServiceServer::new(service::Scoring {
            reader: reader.clone(),
            engine: engine.clone(),
        }),
        reader,
    );
    server.add_service(service, vec![db_check(db.clone(), SCHEMA, MIGRATIONS)]);
    server.add_service(
        RulesServiceServer::new(rules::RulesApi {
            rules: rules.clone(),
        }),
        vec![db_check(db.clone(), SCHEMA, MIGRATIONS)],
    );
    Handle {
        engine,
        auth: app.auth.clone(),
        db,
        rules,
    }
}

impl Handle {
    /// One round of the rules worker, as [`spawn_rules`] runs on every poll:
    /// the queued work, then every due tenant's periodic pass. For tools and
    /// tests that need to know when evaluation has happened.
    pub async fn run_rules_once(&self, options: RulesOptions) -> Result<(), ApiError> {
        let worker = rules::RulesWorker {
            rules: self.rules.clone(),
            options,
        };
        worker.round(&Shutdown::new()).await
    }

    /// One pass of the background refresh, as [`spawn_refresh`] runs on
    /// every poll: every tenant due now is refreshed and its outcome
    /// recorded. For tools and tests that need to know when a refresh has
    /// happened.
    pub async fn run_refresh_once(&self, options: RefreshOptions) -> Result<(), ApiError> {
        let job = refresh::Refresh {
            engine: self.engine.clone(),
            auth: self.auth.clone(),
            db: self.db.clone(),
            options,
        };
        job.pass(&Shutdown::new()).await.map_err(engine::db_error)
    }
}

/// Starts the rules worker: evaluates the work ApplyChanges queues and each
/// tenant's periodic pass. Run it on every replica. Ends when `shutdown`
/// fires.
pub fn spawn_rules(
    handle: &Handle,
    options: RulesOptions,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    let worker = rules::RulesWorker {
        rules: handle.rules.clone(),
        options,
    };
    tokio::spawn(worker.run(shutdown))
}

/// Starts the background refresh: every tenant's wallet estimates, model fit
/// and population on the tenant's fit interval, one replica per tenant at a
/// time. Ends when `shutdown` fires.
pub fn spawn_refresh(
    handle: &Handle,
    options: RefreshOptions,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    let job = refresh::Refresh {
        engine: handle.engine.clone(),
        auth: handle.auth.clone(),
        db: handle.db.clone(),
        options,
    };
    tokio::spawn(job.run(shutdown))
}

/// The peers this service calls: wallet estimates come from Profiles, rules
/// contact customers through notifications.
pub const PEERS: &[&str] = &["profiles", "notifications"];

/// Runs the service, its background refresh and its rules worker as their
/// own process until SIGTERM or SIGINT, then drains: what the
/// `rapport-scoring` binary and `rapport serve scoring` do.
pub async fn serve(app: App) -> anyhow::Result<()> {
    use rapport_kit::internal::lazy_channel;
    app.require_peers("scoring", PEERS)?;
    let db = app.db(SCHEMA).context("opening the scoring database")?;
    let cache = cache_from_config(&app.config).await?;
    let timeout = app.config.request_timeout();
    let url = |name| app.peer_url(name).unwrap_or_default().to_owned();
    let profiles = ProfilesServiceClient::new(
        lazy_channel(&url("profiles"), timeout).context("profiles url")?,
    )
    .max_decoding_message_size(app.config.max_message_bytes);
    let notifications = NotificationsServiceClient::new(
        lazy_channel(&url("notifications"), timeout).context("notifications url")?,
    );
    let mut server = app.server();
    let handle = add_to(
        &mut server,
        &app,
        db.clone(),
        cache,
        profiles,
        notifications,
    );
    let refresh = spawn_refresh(&handle, RefreshOptions::default(), app.shutdown.clone());
    let rules = spawn_rules(&handle, RulesOptions::default(), app.shutdown.clone());
    app.shutdown.on_signals();
    let (listener, addr) = app.bind().await?;
    tracing::info!(%addr, "scoring service starting");
    server.serve(listener, app.shutdown.clone()).await?;
    let _ = refresh.await;
    let _ = rules.await;
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
