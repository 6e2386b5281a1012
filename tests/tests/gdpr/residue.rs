//! Where a text still occurs in a test's stores: every column of every table
//! of every schema (Postgres) or of every SQLite file in the data directory,
//! and every key and value under the test's Redis prefix. For proving that
//! an erasure left nothing behind.

use std::path::Path;

use rapport_kit::config::Config;
use sqlx::{Connection, PgConnection, SqliteConnection, sqlite::SqliteConnectOptions};

/// One place a needle was found: "<schema or file>.<table>.<column>" or
/// "redis:<key>", and the needle.
pub type Hit = (String, String);

/// Every place in the stores of the suite configured by `config` holding
/// one of `needles`.
pub async fn find(config: &Config, needles: &[String]) -> Vec<Hit> {
    let mut hits = match &config.database_url {
        Some(url) => in_postgres(url.expose(), needles).await,
        None => in_sqlite(&config.data_dir, needles).await,
    };
    if let Some(url) = &config.redis_url {
        hits.extend(in_redis(url.expose(), &config.cache_prefix, needles).await);
    }
    hits
}

async fn in_postgres(url: &str, needles: &[String]) -> Vec<Hit> {
    let mut conn = PgConnection::connect(url).await.expect("test database");
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text, c.data_type::text \
         FROM information_schema.columns c JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE t.table_type = 'BASE TABLE' \
           AND c.table_schema NOT IN ('pg_catalog', 'information_schema') \
           AND c.table_schema NOT LIKE 'pg\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("columns");
    assert!(
        columns.len() > 50,
        "the services' tables: {}",
        columns.len()
    );
    let mut hits = Vec::new();
    for (schema, table, column, ty) in columns {
        let text = if ty == "bytea" {
            format!("encode(\"{column}\", 'escape')")
        } else {
            format!("CAST(\"{column}\" AS text)")
        };
        let sql =
            format!("SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE strpos({text}, $1) > 0");
        for needle in needles {
            let n: i64 = sqlx::query_scalar(&sql)
                .bind(needle)
                .fetch_one(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            if n > 0 {
                hits.push((format!("{schema}.{table}.{column}"), needle.clone()));
            }
        }
    }
    hits
}

fn is_sqlite(path: &Path) -> bool {
    std::fs::read(path)
        .map(|b| b.starts_with(b"SQLite format 3\0"))
        .unwrap_or(false)
}

async fn in_sqlite(dir: &Path, needles: &[String]) -> Vec<Hit> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("data dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_sqlite(p))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "the stores of four services and the registry: {files:?}"
    );
    let mut hits = Vec::new();
    for file in files {
        let options = SqliteConnectOptions::new().filename(&file);
        let mut conn = SqliteConnection::connect_with(&options)
            .await
            .expect("sqlite");
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&mut conn)
                .await
                .expect("tables");
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        for table in tables {
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                .bind(&table)
                .fetch_all(&mut conn)
                .await
                .expect("columns");
            for column in columns {
                let sql = format!(
                    "SELECT count(*) FROM \"{table}\" \
                     WHERE instr(CAST(\"{column}\" AS BLOB), CAST($1 AS BLOB)) > 0"
                );
                for needle in needles {
                    let n: i64 = sqlx::query_scalar(&sql)
                        .bind(needle)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap_or_else(|e| panic!("{sql}: {e}"));
                    if n > 0 {
                        hits.push((format!("{name}.{table}.{column}"), needle.clone()));
                    }
                }
            }
        }
    }
    hits
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len().max(1))
        .any(|w| w == needle.as_bytes())
}

/// Keys under `prefix`, with their values when strings or hashes.
pub async fn redis_entries(url: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let client = redis::Client::open(url).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .expect("scan");
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let mut out = Vec::new();
    for key in keys {
        let ty: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("type");
        let value: Vec<u8> = match ty.as_str() {
            "string" => redis::cmd("GET")
                .arg(&key)
                .query_async::<Option<Vec<u8>>>(&mut conn)
                .await
                .expect("get")
                .unwrap_or_default(),
            "hash" => redis::cmd("HGETALL")
                .arg(&key)
                .query_async::<Vec<Vec<u8>>>(&mut conn)
                .await
                .expect("hgetall")
                .concat(),
            _ => Vec::new(),
        };
        out.push((key, value));
    }
    out
}

async fn in_redis(url: &str, prefix: &str, needles: &[String]) -> Vec<Hit> {
    let mut hits = Vec::new();
    for (key, value) in redis_entries(url, prefix).await {
        for needle in needles {
            if key.contains(needle.as_str()) || holds(&value, needle) {
                hits.push((format!("redis:{key}"), needle.clone()));
            }
        }
    }
    hits
}
