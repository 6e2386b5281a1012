//! The databases tests make are dropped by a later test once stale, so runs
//! do not fill the test server: a full run makes a few hundred.

use sqlx::{Connection, PgConnection};

async fn exists(conn: &mut PgConnection, name: &str) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(conn)
        .await
        .unwrap()
        == 1
}

#[tokio::test]
async fn stale_test_databases_are_dropped_when_a_new_one_is_made() {
    let mut conn = PgConnection::connect(&rapport_kit::testing::admin_url())
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let id = uuid::Uuid::new_v4().simple();
    // Made a day ago by an earlier run, and a minute ago by a running one.
    let stale = format!("rapport_t_{}_{id}", now - 86_400);
    let recent = format!("rapport_t_{}_{id}", now - 60);
    for name in [&stale, &recent] {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let fresh = rapport_kit::testing::fresh_postgres().await;
    let fresh = fresh.rsplit('/').next().unwrap().to_owned();
    assert!(!exists(&mut conn, &stale).await, "{stale} dropped");
    assert!(exists(&mut conn, &recent).await, "{recent} kept");
    assert!(exists(&mut conn, &fresh).await);
    for name in [&recent, &fresh] {
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}
