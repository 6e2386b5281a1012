//! Rapport ingestion: takes in transactions and interaction events from ERP,
//! point-of-sale and web systems, validates them row by row, stores them
//! append-only and idempotently by (tenant, source, external id), and tells
//! scoring about each new row through a transactional outbox.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod change;
pub mod config;
mod grpc;
mod ingest;
mod repo;
mod resolve;
mod validate;
mod worker;

use rapport_kit::{
    Db,
    db::Migrations,
    internal::InternalCredentials,
    server::{Server, db_check},
    shutdown::Shutdown,
};
use rapport_proto::v1::{
    ingestion_service_server::IngestionServiceServer,
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};
use tonic::transport::Channel;

/// The service's Postgres schema (or SQLite file name).
pub const SCHEMA: &str = "ingestion";

/// The service's migrations for both backends.
pub const MIGRATIONS: Migrations = rapport_kit::migrations![
    (1, "ingestion", "0001_ingestion.sql"),
    (2, "outbox lease", "0002_outbox_lease.sql"),
];

/// Adds the service (max decoding message size `max_message_bytes`) and its health check.
pub fn add_to(
    server: &mut Server,
    db: Db,
    profiles: ProfilesServiceClient<Channel>,
    internal: InternalCredentials,
    max_message_bytes: usize,
) {
    let ingest = ingest::Ingest {
        repo: repo::Repo::new(db.clone()),
        resolver: resolve::Resolver::new(profiles, internal),
    };
    let service = IngestionServiceServer::new(ingest).max_decoding_message_size(max_message_bytes);
    server.add_service(service, vec![db_check(db, SCHEMA, MIGRATIONS)]);
}

/// Delivers the outbox to scoring until `shutdown`; safe to run in any number of replicas.
pub fn spawn_relay(
    db: Db,
    scoring: ScoringServiceClient<Channel>,
    internal: InternalCredentials,
    config: config::RelayConfig,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<()> {
    let relay = worker::Relay {
        db,
        scoring,
        internal,
        config,
    };
    tokio::spawn(relay.run(shutdown))
}

/// The peers this service calls: Profiles resolves customers, scoring
/// takes the outbox.
pub const PEERS: &[&str] = &["profiles", "scoring"];

/// Runs the service and its outbox relay as their own process until
/// SIGTERM or SIGINT, then drains: what the `rapport-ingestion` binary and
/// `rapport serve ingestion` do.
pub async fn serve(app: rapport_kit::app::App) -> anyhow::Result<()> {
    use anyhow::Context;
    app.require_peers("ingestion", PEERS)?;
    let db = app.db(SCHEMA).context("opening the ingestion database")?;
    let peers = rapport_kit::peers::PeerClients::new(&app.config);
    let (profiles, scoring) = (peers.profiles()?, peers.scoring()?);
    let mut server = app.server();
    add_to(
        &mut server,
        db.clone(),
        profiles,
        app.internal.clone(),
        app.config.max_message_bytes,
    );
    let relay = spawn_relay(
        db.clone(),
        scoring,
        app.internal.clone(),
        app.config.section::<config::RelayConfig>()?,
        app.shutdown.clone(),
    );
    app.shutdown.on_signals();
    let (listener, _) = app.bind().await.context("binding the listen address")?;
    server.serve(listener, app.shutdown.clone()).await?;
    relay.await.context("outbox relay task")?;
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
