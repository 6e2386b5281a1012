//! One SQL body, two pools: the macros every repository uses to run the same
//! statements on Postgres or SQLite. The body is compiled once per backend, so
//! binds and decodes resolve to each backend's native types (see
//! [`super::codec`]).

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds.
///
/// ```text
/// let n: i64 = on_pool!(&self.db, pool => {
///     sqlx::query_scalar("SELECT count(*) FROM rules WHERE tenant_id = $1")
///         .bind(Id(tenant))
///         .fetch_one(pool)
///         .await?
/// });
/// ```
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($pool) => $body,
            $crate::db::Db::Sqlite($pool) => $body,
        }
    };
}

/// Runs `$body` inside a transaction bound to `$tx`, committed when the body
/// finishes; an early return (`?`) drops the transaction, which rolls it back.
/// The body's value is the macro's value. Use `&mut *$tx` as the executor.
#[macro_export]
macro_rules! in_tx {
    ($db:expr, $tx:ident => $body:expr) => {
        $crate::on_pool!($db, pool => {
            #[allow(unused_mut)]
            let mut $tx = pool.begin().await?;
            let out = $body;
            $tx.commit().await?;
            out
        })
    };
}

/// Picks the statement text for the backend of a pool or transaction in scope:
/// `dialect!(pool, pg = "...", sqlite = "...")` inside an `on_pool!`/`in_tx!`
/// body, where the algorithm (not just the types) differs.
#[macro_export]
macro_rules! sql_for {
    ($db:expr, postgres = $pg:expr, sqlite = $lite:expr $(,)?) => {
        match $db {
            $crate::db::Db::Postgres(_) => $pg,
            $crate::db::Db::Sqlite(_) => $lite,
        }
    };
}

/// A service's [`Migrations`](crate::db::Migrations) from files of the same
/// name under its `migrations/postgres/` and `migrations/sqlite/`:
/// `migrations![(1, "profiles", "0001_profiles.sql")]`. Both dialects move
/// in step, so one list names each version once.
#[macro_export]
macro_rules! migrations {
    ($(($version:literal, $description:literal, $file:literal)),* $(,)?) => {
        $crate::db::Migrations {
            postgres: &[$($crate::db::MigrationFile {
                version: $version,
                description: $description,
                sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres/", $file)),
            }),*],
            sqlite: &[$($crate::db::MigrationFile {
                version: $version,
                description: $description,
                sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite/", $file)),
            }),*],
        }
    };
}

/// Runs `$body` with `$c` bound to the connection a
/// [`Conn`](crate::db::Conn) holds (`$conn` is a `&mut Conn`); like
/// [`on_pool!`], the body is compiled once per backend.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Postgres(c) => {
                let $c = &mut **c;
                $body
            }
            $crate::db::Conn::Sqlite(c) => {
                let $c = &mut **c;
                $body
            }
        }
    };
}

/// Statement `$name` of the calling service in the dialect of `$on` (a
/// [`Db`](crate::db::Db) or a [`Conn`](crate::db::Conn)):
/// `sql/postgres/$name.sql` or `sql/sqlite/$name.sql`, for statements the
/// two backends cannot share.
#[macro_export]
macro_rules! dialect_sql {
    ($on:expr, $name:literal) => {
        $on.sql(
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
