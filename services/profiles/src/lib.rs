//! Rapport profiles service: customers, their external identities, their
//! account hierarchy, consent per channel and attributes, on Postgres or the
//! embedded SQLite store.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod gdpr;
mod grpc;
mod hierarchy;
mod model;
mod repo;
mod requests;
mod validate;

use rapport_kit::{
    Db,
    db::Migrations,
    internal::InternalCredentials,
    peers::PeerClients,
    server::{Server, db_check},
};
use rapport_proto::v1::profiles_service_server::ProfilesServiceServer;

pub use gdpr::Peers;
pub use grpc::ProfilesGrpc;

/// The service's Postgres schema (and SQLite file name).
pub const SCHEMA: &str = "profiles";

/// The service's migrations for both backends.
pub const MIGRATIONS: Migrations = rapport_kit::migrations![
    (1, "profiles", "0001_profiles.sql"),
    (2, "erasures", "0002_erasures.sql"),
];

/// The gRPC service over `db`, listing customers from `reader` (a replica,
/// or `db`), accepting requests of up to `max_message_bytes` (imports send
/// up to 5,000 customers per call).
pub fn service(
    db: Db,
    reader: Db,
    max_message_bytes: usize,
) -> ProfilesServiceServer<ProfilesGrpc> {
    ProfilesServiceServer::new(ProfilesGrpc::new(db, reader))
        .max_decoding_message_size(max_message_bytes)
}

/// Adds the service as [`add_to`] does, exporting and erasing customers
/// through `peers` (without them those two RPCs answer FAILED_PRECONDITION).
pub fn add_with_peers(server: &mut Server, db: Db, peers: Option<Peers>) {
    let check = db_check(db.clone(), SCHEMA, MIGRATIONS);
    let max_message_bytes = server.config().max_message_bytes;
    let reader = match Db::connect_replica(server.config(), SCHEMA) {
        Ok(replica) => replica.unwrap_or_else(|| db.clone()),
        Err(e) => {
            tracing::error!(error = %e, "database_read_url unusable; listing from the primary");
            db.clone()
        }
    };
    let grpc = ProfilesGrpc::new(db, reader).with_peers(peers);
    let service = ProfilesServiceServer::new(grpc).max_decoding_message_size(max_message_bytes);
    server.add_service(service, vec![check]);
}

/// Clients of [`PEERS`] from `clients`, calling with `internal`.
pub fn connect_peers(
    clients: &PeerClients,
    internal: &InternalCredentials,
) -> anyhow::Result<Peers> {
    Ok(Peers::new(
        clients.ingestion()?,
        clients.scoring()?,
        clients.notifications()?,
        internal.clone(),
    ))
}

/// Adds the service and its health check (migrating `db` on first success);
/// requests are accepted up to the server's `max_message_bytes`, which its
/// in-flight byte budget always holds. ListCustomers reads the replica at
/// `database_read_url` when one is configured.
pub fn add_to(server: &mut Server, db: Db) {
    add_with_peers(server, db, None);
}

/// The peers this service calls: customer export and erasure reach every
/// other service.
pub const PEERS: &[&str] = &["ingestion", "scoring", "notifications"];

/// Runs the service as its own process until SIGTERM or SIGINT, then
/// drains: what the `rapport-profiles` binary and `rapport serve profiles`
/// do.
pub async fn serve(app: rapport_kit::app::App) -> anyhow::Result<()> {
    use anyhow::Context;
    let db = app.db(SCHEMA).context("opening the profiles database")?;
    let mut server = app.server();
    // Without its peers, profiles still serves everything but customer
    // export and erasure, so existing deployments keep starting.
    let peers = match app.require_peers("profiles", PEERS) {
        Ok(()) => Some(connect_peers(
            &PeerClients::new(&app.config),
            &app.internal,
        )?),
        Err(e) => {
            tracing::warn!(error = %e, "customer export and erasure unavailable");
            None
        }
    };
    add_with_peers(&mut server, db.clone(), peers);
    app.shutdown.on_signals();
    let (listener, _) = app.bind().await.context("binding the listen address")?;
    server
        .serve(listener, app.shutdown.clone())
        .await
        .context("serving")?;
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
