//! Rapport notifications service: accepts notifications (consent, contact
//! policy, templates) into a durable queue deduplicated per tenant, and
//! delivers them by email, SMS and signed webhooks with retries, back-off and
//! dead letters.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod accept;
pub mod config;
mod delivery;
mod error;
mod grpc;
mod metrics;
mod model;
mod peers;
mod personalise;
mod render;
mod repo;
mod seal;
mod validate;
mod worker;

/// The most `data` values a send or preview may carry.
pub use validate::limits::MAX_DATA_ENTRIES;

use rapport_kit::{
    Db,
    db::Migrations,
    internal::InternalCredentials,
    peers::PeerClients,
    server::{Server, db_check},
};
use rapport_proto::v1::notifications_service_server::NotificationsServiceServer;

pub use delivery::webhook::{SIGNATURE_HEADER, sign, signature_header};
pub use peers::Peers;
pub use worker::{WorkerSetupError, spawn_worker};

/// Schema (Postgres) or file name (SQLite) of the notifications store.
pub const SCHEMA: &str = "notifications";

/// Migrations of the notifications store.
pub const MIGRATIONS: Migrations = rapport_kit::migrations![
    (1, "notifications", "0001_notifications.sql"),
    (2, "channels", "0002_channels.sql"),
    (3, "attempt backoff", "0003_attempt_backoff.sql"),
    (4, "fair claims", "0004_fair_claims.sql"),
    (5, "sealed secrets", "0005_sealed_secrets.sql"),
    (6, "integration endpoints", "0006_integration_endpoints.sql"),
];

/// Adds the service, its health check (db_check) and the sampler of its
/// delivery queue. Email and SMS are
/// accepted only when `config` names an SMTP relay or SMS provider.
pub fn add_to(server: &mut Server, db: Db, config: &config::NotifyConfig, peers: Peers) {
    let check = db_check(db.clone(), SCHEMA, MIGRATIONS);
    let configured = validate::Configured {
        email: config.smtp.host.is_some(),
        sms: config.sms.url.is_some(),
        private_destinations: config.allow_private_destinations,
    };
    let repo = repo::Repository::new(db, repo::Keys::from_config(config));
    server.add_sampler(metrics::queue_sampler(repo.clone()));
    let service = grpc::Notifications::new(repo, peers, configured, config.secret_overlap_ms);
    let service = NotificationsServiceServer::new(service)
        .max_decoding_message_size(rapport_proto::limits::CONTROL_MAX_BYTES);
    server.add_service(service, vec![check]);
}

/// The peers this service calls: consent and profiles come from Profiles,
/// template scores from scoring.
pub const PEERS: &[&str] = &["profiles", "scoring"];

/// Clients of [`PEERS`] from `clients`, calling with `internal`.
pub fn connect_peers(
    clients: &PeerClients,
    internal: &InternalCredentials,
) -> anyhow::Result<Peers> {
    Ok(Peers::new(
        clients.profiles()?,
        clients.scoring()?,
        internal.clone(),
    ))
}

/// Runs the API and the delivery worker as their own process until SIGTERM
/// or SIGINT, then drains and lets deliveries in flight finish: what the
/// `rapport-notifications` binary and `rapport serve notifications` do.
/// `roles` may run only the API (`serve`) or only delivery (`notify`).
pub async fn serve(app: rapport_kit::app::App) -> anyhow::Result<()> {
    use anyhow::Context;
    use rapport_kit::config::Role;
    let roles = app.roles("notifications", &[Role::Serve, Role::Notify])?;
    app.require_peers("notifications", PEERS)?;
    let peers = connect_peers(&PeerClients::new(&app.config), &app.internal)?;
    let notify: config::NotifyConfig = app.config.section()?;
    let db = app.db(SCHEMA)?;
    let mut server = app.server_for(&roles, db_check(db.clone(), SCHEMA, MIGRATIONS));
    if roles.has(Role::Serve) {
        add_to(&mut server, db.clone(), &notify, peers.clone());
    }
    let worker = if roles.has(Role::Notify) {
        if !roles.has(Role::Serve) {
            // The delivery pod reports the queue it works off.
            let repo = repo::Repository::new(db.clone(), repo::Keys::from_config(&notify));
            server.add_sampler(metrics::queue_sampler(repo));
        }
        Some(
            spawn_worker(db.clone(), notify, peers, app.shutdown.clone())
                .context("notification delivery settings")?,
        )
    } else {
        None
    };
    app.shutdown.on_signals();
    let (listener, _) = app.bind().await?;
    server.serve(listener, app.shutdown.clone()).await?;
    // The server has drained; let deliveries in flight finish and be recorded.
    if let Some(worker) = worker
        && let Err(e) = worker.await
    {
        tracing::error!(error = %e, "notification worker ended abnormally");
    }
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
