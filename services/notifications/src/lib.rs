//! Rapport notifications service: accepts notifications, keeps them in a
//! durable queue deduplicated per tenant, and delivers them to webhooks with
//! retries, backoff and dead letters.
//!
//! This cut delivers over plain HTTP only (reqwest without TLS); email, SMS
//! and https delivery come later.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod delivery;
mod model;
mod repo;
mod service;
mod validate;
mod worker;

use rapport_kit::{
    Db,
    db::{MigrationFile, Migrations},
    server::{Server, db_check},
};
use rapport_proto::v1::notifications_service_server::NotificationsServiceServer;

pub use worker::spawn_worker;

/// Schema (Postgres) or file name (SQLite) of the notifications store.
pub const SCHEMA: &str = "notifications";

/// Migrations of the notifications store.
pub const MIGRATIONS: Migrations = Migrations {
    postgres: &[MigrationFile {
        version: 1,
        description: "notifications",
        sql: include_str!("../migrations/postgres/0001_notifications.sql"),
    }],
    sqlite: &[MigrationFile {
        version: 1,
        description: "notifications",
        sql: include_str!("../migrations/sqlite/0001_notifications.sql"),
    }],
};

/// Adds the service and its health check (db_check).
pub fn add_to(server: &mut Server, db: Db) {
    let check = db_check(db.clone(), SCHEMA, MIGRATIONS);
    let service = service::Notifications::new(repo::Repository::new(db));
    server.add_service(NotificationsServiceServer::new(service), vec![check]);
}
