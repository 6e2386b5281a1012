use chrono::TimeZone;
use sqlx::{Row, sqlite::SqlitePoolOptions};

use super::*;
use crate::db::Db;

/// How a backend stores the codec's values, and the SQL that shows it.
struct Native {
    /// Selects `$1` as `id` and `$2` as `at`, each beside its stored type.
    types_sql: &'static str,
    /// The stored type of an [`Id`].
    id_type: &'static str,
    /// The stored type of a [`Time`].
    at_type: &'static str,
    /// Unpacks the [`List`] bound as `$1`, in order.
    list_sql: &'static str,
}

/// An id and a time round-trip through `db` as `native` types, and a list
/// of ids unpacks in order.
async fn round_trips(db: &Db, native: Native) {
    let id = Uuid::new_v4();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let ids = [Uuid::new_v4(), Uuid::new_v4()];
    let (got_id, id_type, got_at, at_type, back) = crate::on_pool!(db, pool => {
        let row = sqlx::query(native.types_sql)
            .bind(Id(id))
            .bind(Time(at))
            .fetch_one(pool)
            .await
            .unwrap();
        let back: Vec<Id> = sqlx::query_scalar(native.list_sql)
            .bind(List(&ids[..]))
            .fetch_all(pool)
            .await
            .unwrap();
        (
            row.get::<Id, _>("id"),
            row.get::<String, _>("id_type"),
            row.get::<Time, _>("at"),
            row.get::<String, _>("at_type"),
            back,
        )
    });
    assert_eq!(got_id, Id(id));
    assert_eq!(id_type, native.id_type);
    assert_eq!(got_at, Time(at));
    assert_eq!(at_type, native.at_type);
    assert_eq!(back, vec![Id(ids[0]), Id(ids[1])]);
}

#[tokio::test]
async fn sqlite_keeps_ids_as_text_times_as_micros_and_lists_as_json() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let native = Native {
        types_sql: "SELECT $1 AS id, typeof($1) AS id_type, $2 AS at, typeof($2) AS at_type",
        id_type: "text",
        at_type: "integer",
        list_sql: "SELECT value FROM json_each($1) ORDER BY key",
    };
    round_trips(&Db::Sqlite(pool), native).await;
}

#[tokio::test]
async fn postgres_keeps_native_uuid_timestamptz_and_arrays() {
    let url = crate::testing::fresh_postgres().await;
    let db = Db::Postgres(sqlx::PgPool::connect(&url).await.unwrap());
    let native = Native {
        types_sql: "SELECT $1 AS id, pg_typeof($1)::text AS id_type, $2 AS at, pg_typeof($2)::text AS at_type",
        id_type: "uuid",
        at_type: "timestamp with time zone",
        list_sql: "SELECT x FROM unnest($1) WITH ORDINALITY AS u(x, n) ORDER BY n",
    };
    round_trips(&db, native).await;
    db.close().await;
}
