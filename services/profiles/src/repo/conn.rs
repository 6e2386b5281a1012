//! The open connection a repository function runs on, of either backend, so
//! the functions below are written once and called inside whichever
//! transaction a [`Repo`](super::Repo) method opened with the kit's `in_tx!`.

use sqlx::{PgConnection, SqliteConnection};

/// A connection (usually a transaction's) of either backend.
pub(crate) enum Conn<'a> {
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
    /// The statement text for this backend, where the two differ (the
    /// connection-level counterpart of the kit's `sql_for!`).
    pub fn sql(&self, postgres: &'static str, sqlite: &'static str) -> &'static str {
        match self {
            Conn::Postgres(_) => postgres,
            Conn::Sqlite(_) => sqlite,
        }
    }
}

/// Statement `$name` in the dialect of `$conn`: `sql/postgres/$name.sql` or
/// `sql/sqlite/$name.sql`.
macro_rules! sql {
    ($conn:expr, $name:literal) => {
        $conn.sql(
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/sql/postgres/",
                $name,
                ".sql"
            )),
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/sql/sqlite/",
                $name,
                ".sql"
            )),
        )
    };
}
pub(crate) use sql;

/// Runs `$body` with `$c` bound to the connection of `$conn` (a
/// `&mut Conn`); like the kit's `on_pool!`, the body is compiled once per
/// backend, so binds resolve to each backend's native types.
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::repo::conn::Conn::Postgres(c) => {
                let $c = &mut **c;
                $body
            }
            $crate::repo::conn::Conn::Sqlite(c) => {
                let $c = &mut **c;
                $body
            }
        }
    };
}
pub(crate) use on_conn;
