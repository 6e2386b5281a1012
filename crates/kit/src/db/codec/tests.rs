use chrono::TimeZone;
use sqlx::{Row, sqlite::SqlitePoolOptions};

use super::*;

#[tokio::test]
async fn sqlite_keeps_ids_as_text_times_as_micros_and_lists_as_json() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let id = Uuid::new_v4();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let row =
        sqlx::query("SELECT $1 AS id, typeof($1) AS id_type, $2 AS at, typeof($2) AS at_type")
            .bind(Id(id))
            .bind(Time(at))
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(row.get::<Id, _>("id"), Id(id));
    assert_eq!(row.get::<String, _>("id_type"), "text");
    assert_eq!(row.get::<Time, _>("at"), Time(at));
    assert_eq!(row.get::<String, _>("at_type"), "integer");

    let ids = [Uuid::new_v4(), Uuid::new_v4()];
    let back: Vec<Id> = sqlx::query_scalar("SELECT value FROM json_each($1) ORDER BY key")
        .bind(List(&ids[..]))
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(back, vec![Id(ids[0]), Id(ids[1])]);
}

#[tokio::test]
async fn postgres_keeps_native_uuid_timestamptz_and_arrays() {
    let url = crate::testing::fresh_postgres().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let id = Uuid::new_v4();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let row = sqlx::query(
        "SELECT $1 AS id, pg_typeof($1)::text AS id_type, $2 AS at, pg_typeof($2)::text AS at_type",
    )
    .bind(Id(id))
    .bind(Time(at))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.get::<Id, _>("id"), Id(id));
    assert_eq!(row.get::<String, _>("id_type"), "uuid");
    assert_eq!(row.get::<Time, _>("at"), Time(at));
    assert_eq!(row.get::<String, _>("at_type"), "timestamp with time zone");

    let ids = [Uuid::new_v4(), Uuid::new_v4()];
    let back: Vec<Id> =
        sqlx::query_scalar("SELECT x FROM unnest($1) WITH ORDINALITY AS u(x, n) ORDER BY n")
            .bind(List(&ids[..]))
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(back, vec![Id(ids[0]), Id(ids[1])]);
    pool.close().await;
}
