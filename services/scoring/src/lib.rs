//! Rapport scoring service: per-customer aggregates kept current as
//! ingestion's outbox relay delivers changes, and scores served from a
//! versioned cache with the database behind it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod calc;
mod changes;
mod hot;
mod reads;
mod repo;
mod score;
mod service;
mod tokens;

use std::sync::Arc;

use anyhow::Context;
use rapport_cache::{MemoryCache, RedisCache, VersionedCache};
use rapport_kit::{
    Db,
    config::Config,
    db::{MigrationFile, Migrations},
    server::{Server, db_check},
};
use rapport_proto::v1::scoring_service_server::ScoringServiceServer;

/// Schema (Postgres) or file name (SQLite) of the scoring store.
pub const SCHEMA: &str = "scoring";

/// Migrations of the scoring store.
pub const MIGRATIONS: Migrations = Migrations {
    postgres: &[MigrationFile {
        version: 1,
        description: "scores",
        sql: include_str!("../migrations/postgres/0001_scores.sql"),
    }],
    sqlite: &[MigrationFile {
        version: 1,
        description: "scores",
        sql: include_str!("../migrations/sqlite/0001_scores.sql"),
    }],
};

/// Entries the in-process cache holds: a few hundred bytes each, so a few
/// MiB, well inside the service's memory budget.
const MEMORY_CACHE_ENTRIES: usize = 20_000;

/// Redis when `config.redis_url` is set, else an in-process cache.
pub async fn cache_from_config(config: &Config) -> anyhow::Result<Arc<dyn VersionedCache>> {
    Ok(match &config.redis_url {
        Some(url) => Arc::new(RedisCache::new(url.expose()).await.context("redis cache")?),
        None => Arc::new(MemoryCache::new(MEMORY_CACHE_ENTRIES)),
    })
}

/// Adds the service and its health check (db_check). Cache keys start with `cache_prefix`.
pub fn add_to(server: &mut Server, db: Db, cache: Arc<dyn VersionedCache>, cache_prefix: String) {
    let hot = hot::HotScores::new(cache, &cache_prefix);
    let reader = reads::Reader {
        repo: repo::ScoreRepo::new(db.clone()),
        hot,
    };
    let service = ScoringServiceServer::new(service::Scoring { reader });
    server.add_service(service, vec![db_check(db, SCHEMA, MIGRATIONS)]);
}
