//! Rapport notifications service: accepts notifications, checks consent and
//! the tenant's contact policy, renders templates with the customer's profile
//! and score, keeps them in a durable queue deduplicated per tenant, and
//! delivers them by email (SMTP), SMS (a provider's HTTP API) and signed
//! webhooks with retries, backoff and dead letters.
//!
//! Webhooks and the SMS provider are reached over plain HTTP only (reqwest
//! is built without TLS); SMTP uses STARTTLS through rustls.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod accept;
mod delivery;
mod model;
mod peers;
mod policy;
mod repo;
mod service;
mod settings;
mod template;
mod templates;
mod validate;
mod worker;

use rapport_kit::{
    Db,
    config::NotifyConfig,
    db::{MigrationFile, Migrations},
    server::{Server, db_check},
};
use rapport_proto::v1::notifications_service_server::NotificationsServiceServer;

pub use delivery::webhook::{SIGNATURE_HEADER, sign};
pub use peers::Peers;
pub use worker::{WorkerSetupError, spawn_worker};

/// Schema (Postgres) or file name (SQLite) of the notifications store.
pub const SCHEMA: &str = "notifications";

/// Migrations of the notifications store.
pub const MIGRATIONS: Migrations = Migrations {
    postgres: &[
        MigrationFile {
            version: 1,
            description: "notifications",
            sql: include_str!("../migrations/postgres/0001_notifications.sql"),
        },
        MigrationFile {
            version: 2,
            description: "channels",
            sql: include_str!("../migrations/postgres/0002_channels.sql"),
        },
        MigrationFile {
            version: 3,
            description: "attempt backoff",
            sql: include_str!("../migrations/postgres/0003_attempt_backoff.sql"),
        },
    ],
    sqlite: &[
        MigrationFile {
            version: 1,
            description: "notifications",
            sql: include_str!("../migrations/sqlite/0001_notifications.sql"),
        },
        MigrationFile {
            version: 2,
            description: "channels",
            sql: include_str!("../migrations/sqlite/0002_channels.sql"),
        },
        MigrationFile {
            version: 3,
            description: "attempt backoff",
            sql: include_str!("../migrations/sqlite/0003_attempt_backoff.sql"),
        },
    ],
};

/// Adds the service and its health check (db_check). Email and SMS are
/// accepted only when `config` names an SMTP relay or SMS provider.
pub fn add_to(server: &mut Server, db: Db, config: &NotifyConfig, peers: Peers) {
    let check = db_check(db.clone(), SCHEMA, MIGRATIONS);
    let configured = validate::Configured {
        email: config.smtp.host.is_some(),
        sms: config.sms.url.is_some(),
        private_destinations: config.allow_private_destinations,
    };
    let service = service::Notifications::new(repo::Repository::new(db), peers, configured);
    server.add_service(NotificationsServiceServer::new(service), vec![check]);
}
