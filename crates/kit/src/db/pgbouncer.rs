//! The PgBouncer configuration Rapport runs behind: transaction pooling,
//! prepared statements kept per server (`max_prepared_statements`, PgBouncer
//! 1.21+), and one pooler database per service schema, `rapport_<schema>`,
//! whose `connect_query` sets the schema. A `database_url` of
//! `postgres://…/rapport_{schema}` then reaches each service's own.

use std::path::Path;

use sqlx::postgres::PgConnectOptions;

/// A `pgbouncer.ini` for a local PgBouncer on 127.0.0.1:`listen_port` in
/// front of the database `upstream` names, with trust authentication for
/// `upstream`'s user (listed in `auth_file`, who also administers it) and a
/// pooler database for each of `schemas`. For tests and benchmarks; the
/// production template is `k8s/overlays/production/pgbouncer.ini`.
pub fn local_ini(
    upstream: &PgConnectOptions,
    schemas: &[&str],
    listen_port: u16,
    auth_file: &Path,
) -> String {
    let (host, port, user) = (
        upstream.get_host(),
        upstream.get_port(),
        upstream.get_username(),
    );
    let database = upstream.get_database().unwrap_or(user);
    let mut ini = String::from("[databases]\n");
    for schema in schemas {
        ini.push_str(&format!(
            "rapport_{schema} = host={host} port={port} dbname={database} user={user} \
             connect_query='SET search_path TO {schema}'\n"
        ));
    }
    ini.push_str(&format!(
        "[pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {listen_port}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {auth}\n\
         admin_users = {user}\n\
         pool_mode = transaction\n\
         max_prepared_statements = 200\n\
         default_pool_size = 20\n\
         max_client_conn = 2000\n\
         server_tls_sslmode = disable\n\
         ignore_startup_parameters = extra_float_digits\n",
        auth = auth_file.display(),
    ));
    ini
}

/// The `auth_file` line for [`local_ini`]'s trusted user.
pub fn local_users(upstream: &PgConnectOptions) -> String {
    format!("\"{}\" \"\"\n", upstream.get_username())
}

/// The `database_url` that reaches each schema's pooler database through
/// a PgBouncer on 127.0.0.1:`port` configured by [`local_ini`].
pub fn local_url(upstream: &PgConnectOptions, port: u16) -> String {
    format!(
        "postgres://{}@127.0.0.1:{port}/rapport_{}",
        upstream.get_username(),
        crate::config::SCHEMA_SLOT
    )
}
