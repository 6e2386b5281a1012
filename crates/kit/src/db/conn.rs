//! An open connection of either backend, usually a transaction's, so that a
//! repository function taking several statements on one connection is
//! written once and run inside whichever transaction `in_tx!` opened.

use sqlx::{PgConnection, SqliteConnection};

use super::Db;

/// A connection (usually a transaction's) of either backend; run a body on
/// it with [`on_conn!`](crate::on_conn).
pub enum Conn<'a> {
    /// The production shape.
    Postgres(&'a mut PgConnection),
    /// The embedded default.
    Sqlite(&'a mut SqliteConnection),
}

impl<'a> From<&'a mut PgConnection> for Conn<'a> {
    fn from(c: &'a mut PgConnection) -> Self {
        Conn::Postgres(c)
    }
}

impl<'a> From<&'a mut SqliteConnection> for Conn<'a> {
    fn from(c: &'a mut SqliteConnection) -> Self {
        Conn::Sqlite(c)
    }
}

impl Conn<'_> {
    /// The statement text for this connection's backend, where the two
    /// differ (see [`dialect_sql!`](crate::dialect_sql)).
    pub fn sql(&self, postgres: &'static str, sqlite: &'static str) -> &'static str {
        match self {
            Conn::Postgres(_) => postgres,
            Conn::Sqlite(_) => sqlite,
        }
    }
}

impl Db {
    /// The statement text for this pool's backend, where the two differ.
    pub fn sql(&self, postgres: &'static str, sqlite: &'static str) -> &'static str {
        match self {
            Db::Postgres(_) => postgres,
            Db::Sqlite(_) => sqlite,
        }
    }
}
