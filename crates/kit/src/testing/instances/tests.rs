//! The private instances survive kill -9 and restart on the same port.

use super::{Options, Postgres, Redis};

/// A query on a fresh connection, as a test's client would make.
fn select_one(url: &str) -> Result<i32, sqlx::Error> {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await
    })
}

#[test]
fn postgres_survives_kill9_and_restart_on_the_same_port() {
    let mut pg = Postgres::start(Options::default().line("max_connections = 20"));
    assert_eq!(select_one(&pg.url()).expect("query"), 1);
    let port = pg.port();
    pg.kill9();
    assert!(!pg.is_running());
    assert!(select_one(&pg.url()).is_err(), "answered after kill -9");
    pg.restart();
    assert_eq!(pg.port(), port);
    assert_eq!(select_one(&pg.url()).expect("query after restart"), 1);
    pg.restart();
    assert_eq!(select_one(&pg.url()).expect("query after restart"), 1);
    pg.stop();
    assert!(!pg.is_running());
}

#[test]
fn redis_answers_then_is_refused_after_kill9_then_answers_empty() {
    let ping = |port| {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
        s.write_all(b"PING\r\n")?;
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf)?;
        Ok::<_, std::io::Error>(buf.to_vec())
    };
    let mut redis = Redis::start(Options::default().line("maxmemory 16mb"));
    assert_eq!(ping(redis.port()).expect("ping"), b"+PONG\r\n");
    redis.kill9();
    assert!(ping(redis.port()).is_err(), "answered after kill -9");
    redis.restart();
    assert_eq!(
        ping(redis.port()).expect("ping after restart"),
        b"+PONG\r\n"
    );
}
