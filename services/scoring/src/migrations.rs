//! The scoring store's schema and its migrations, per backend. Released
//! migration files are frozen; a change is a new file.

use rapport_kit::db::{MigrationFile, Migrations};

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
