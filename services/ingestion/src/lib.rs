//! Rapport ingestion: takes in transactions and interaction events from ERP,
//! point-of-sale and web systems, validates them row by row, stores them
//! append-only and idempotently by (tenant, source, external id), and tells
//! scoring about each new row through a transactional outbox.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod change;
pub mod config;
mod customer_data;
mod grpc;
mod ingest;
mod metrics;
mod opportunities;
mod repo;
mod resolve;
mod validate;
mod worker;

use rapport_kit::{
    Db,
    db::Migrations,
    internal::InternalCredentials,
    server::{HealthCheck, Server, db_check},
    shutdown::Shutdown,
};
use rapport_proto::v1::{
    ingestion_service_server::IngestionServiceServer,
    opportunities_service_server::OpportunitiesServiceServer,
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};
use std::{sync::Arc, time::Duration};

use tonic::transport::Channel;

/// The service's Postgres schema (or SQLite file name).
pub const SCHEMA: &str = "ingestion";

/// The service's migrations for both backends.
pub const MIGRATIONS: Migrations = rapport_kit::migrations![
    (1, "ingestion", "0001_ingestion.sql"),
    (2, "outbox lease", "0002_outbox_lease.sql"),
    (3, "customer totals", "0003_customer_totals.sql"),
    (4, "opportunities", "0004_opportunities.sql"),
];

/// The client-streaming method, served without the whole-request timeout.
const STREAM_TRANSACTIONS: &str = "/rapport.v1.IngestionService/StreamTransactions";

/// Adds the service (max decoding message size `max_message_bytes`), the
/// sampler of the outbox's backlog, and its health checks: the database
/// migrated, then the transaction partitions of this month and the next made
/// (see `[ingest]`, [`config::IngestConfig`]). Starts the task that makes
/// those partitions ahead of time, off the ingest path and outside the health
/// checks: a failed DDL (a lock not granted in time, a role without CREATE)
/// is logged and retried, and takes no replica out of service while the
/// partitions it needs exist.
pub fn add_to(
    server: &mut Server,
    db: Db,
    profiles: ProfilesServiceClient<Channel>,
    internal: InternalCredentials,
    max_message_bytes: usize,
) {
    let settings = server.config().section::<config::IngestConfig>();
    let repo = repo::Repo::new(db.clone());
    let ingest = ingest::Ingest {
        repo: repo.clone(),
        resolver: resolve::Resolver::new(profiles, internal),
        oldest: settings.as_ref().map(|s| s.oldest()).unwrap_or_default(),
        stream_idle: server.config().stream_idle_timeout(),
    };
    if let Ok(s) = &settings {
        tokio::spawn(keep_partitions(repo.clone(), s.partition_months_back));
    }
    let opportunities = opportunities::Opportunities {
        ingest: ingest.clone(),
        store: opportunities::store::Store::new(db.clone()),
    };
    let service = IngestionServiceServer::new(ingest).max_decoding_message_size(max_message_bytes);
    let opportunities =
        OpportunitiesServiceServer::new(opportunities).max_decoding_message_size(max_message_bytes);
    server.add_sampler(metrics::outbox_sampler(db.clone()));
    server.add_service(
        opportunities,
        vec![db_check(db.clone(), SCHEMA, MIGRATIONS)],
    );
    let migrated = db_check(db, SCHEMA, MIGRATIONS);
    let ready = partitions_check(repo, settings.map_err(|e| e.to_string()));
    server
        .add_service(service, vec![migrated, ready])
        .add_stream(STREAM_TRANSACTIONS);
}

/// How often the partition keeper looks again once every partition it
/// keeps ready exists (a new month needs one a month).
const PARTITIONS_EVERY: Duration = Duration::from_secs(3_600);

/// The longest the partition keeper waits between attempts while one fails.
const PARTITIONS_RETRY_MAX: Duration = Duration::from_secs(10);

/// Makes the transaction partitions of the coming months, and keeps them
/// made, for as long as the process runs. Safe in any number of replicas
/// (the DDL is serialised by an advisory lock and skips what exists).
async fn keep_partitions(repo: repo::Repo, back: u32) {
    let mut retry = Duration::from_secs(1);
    loop {
        match repo.ensure_partitions(chrono::Utc::now(), back).await {
            Ok(()) => {
                retry = Duration::from_secs(1);
                tokio::time::sleep(PARTITIONS_EVERY).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?retry, "making transaction partitions");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(PARTITIONS_RETRY_MAX);
            }
        }
    }
}

/// Ready once this month's and the next month's partitions exist (read from
/// what the keeper has made, no statement). Bad `[ingest]` settings keep
/// the service from serving, naming the setting.
fn partitions_check(
    repo: repo::Repo,
    settings: Result<config::IngestConfig, String>,
) -> HealthCheck {
    Arc::new(move || {
        let (repo, settings) = (repo.clone(), settings.clone());
        Box::pin(async move {
            settings?;
            if repo.partitions_ready(chrono::Utc::now()) {
                Ok(())
            } else {
                Err("the transaction partitions of this month and the next are not made yet".into())
            }
        })
    })
}

/// Delivers the outbox to scoring until `shutdown`; safe to run in any number
/// of replicas. Other replicas' commits wake it through `LISTEN` on
/// `listen_on` (see [`Db::listen_pool`]); without one it polls.
pub fn spawn_relay(
    db: Db,
    listen_on: Option<sqlx::PgPool>,
    scoring: ScoringServiceClient<Channel>,
    internal: InternalCredentials,
    config: config::RelayConfig,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    let relay = worker::Relay {
        db,
        listen_on,
        scoring,
        internal,
        config,
    };
    tokio::spawn(relay.run(shutdown))
}

pub use opportunities::OpportunitiesConfig;

/// Runs the opportunities' refit job until `shutdown`: Profiles gives each
/// account's parent, scoring its tier. Safe in any number of replicas.
pub fn spawn_opportunities(
    db: Db,
    profiles: ProfilesServiceClient<Channel>,
    scoring: ScoringServiceClient<Channel>,
    internal: InternalCredentials,
    config: OpportunitiesConfig,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    let refit = opportunities::job::Refit {
        store: opportunities::store::Store::new(db.clone()),
        profiles,
        scoring,
        internal,
        config,
        owner: uuid::Uuid::new_v4(),
    };
    tokio::spawn(opportunities::job::run(db, refit, shutdown))
}

/// The peers this service calls: Profiles resolves customers, scoring
/// takes the outbox.
pub const PEERS: &[&str] = &["profiles", "scoring"];

/// Runs the service and its outbox relay as their own process until
/// SIGTERM or SIGINT, then drains: what the `rapport-ingestion` binary and
/// `rapport serve ingestion` do. `roles` may run only the API (`serve`) or
/// only the relay (`relay`), so each scales as its own Deployment.
pub async fn serve(app: rapport_kit::app::App) -> anyhow::Result<()> {
    use anyhow::Context;
    use rapport_kit::config::Role;
    let roles = app.roles("ingestion", &[Role::Serve, Role::Relay])?;
    app.require_peers("ingestion", PEERS)?;
    let db = app.db(SCHEMA).context("opening the ingestion database")?;
    let peers = rapport_kit::peers::PeerClients::new(&app.config);
    let (profiles, scoring) = (peers.profiles()?, peers.scoring()?);
    // Bad `[ingest]` or `[relay]` settings stop the process here, naming the setting.
    app.config.section::<config::IngestConfig>()?;
    let relay_config = app.config.section::<config::RelayConfig>()?;
    let opportunities_config = app.config.section::<OpportunitiesConfig>()?;
    let mut server = app.server_for(&roles, db_check(db.clone(), SCHEMA, MIGRATIONS));
    if roles.has(Role::Serve) {
        add_to(
            &mut server,
            db.clone(),
            profiles.clone(),
            app.internal.clone(),
            app.config.max_message_bytes,
        );
    } else {
        // The relay's own pod reports the backlog it works off.
        server.add_sampler(metrics::outbox_sampler(db.clone()));
    }
    // The refit job is background work, so it runs where the relay does.
    let refits = roles.has(Role::Relay).then(|| {
        spawn_opportunities(
            db.clone(),
            profiles,
            scoring.clone(),
            app.internal.clone(),
            opportunities_config,
            app.shutdown.clone(),
        )
    });
    let listen_on = app.listen_pool(SCHEMA, &db)?;
    let relay = roles.has(Role::Relay).then(|| {
        spawn_relay(
            db.clone(),
            listen_on,
            scoring,
            app.internal.clone(),
            relay_config,
            app.shutdown.clone(),
        )
    });
    app.shutdown.on_signals();
    let (listener, _) = app.bind().await.context("binding the listen address")?;
    server.serve(listener, app.shutdown.clone()).await?;
    if let Some(relay) = relay {
        relay.await.context("outbox relay task")?;
    }
    if let Some(refits) = refits {
        refits.await.context("opportunity refit task")?;
    }
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
