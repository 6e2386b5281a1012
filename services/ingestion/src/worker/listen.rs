//! Wakes this process's relays when another replica commits a change, so
//! they do not wait for the next poll.

use std::time::Duration;

use rapport_kit::{Db, shutdown::Shutdown};

use super::MAX_BACKOFF;
use crate::repo;

/// On Postgres, forwards `NOTIFY`s of other replicas' commits to this
/// process's relays; reconnects after failures. `None` on SQLite, which has
/// one process.
pub(super) fn listen(db: &Db, shutdown: Shutdown) -> Option<tokio::task::JoinHandle<()>> {
    let Db::Postgres(pool) = db else {
        return None;
    };
    let pool = pool.clone();
    Some(tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_triggered() {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(error) => {
                    tracing::warn!(%error, "outbox listener cannot connect; relying on polling");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            if let Err(error) = listener.listen(repo::NOTIFY_CHANNEL).await {
                tracing::warn!(%error, "outbox listener cannot LISTEN; relying on polling");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            backoff = Duration::from_millis(100);
            loop {
                match listener.recv().await {
                    Ok(_) => repo::wake().notify_one(),
                    Err(error) => {
                        tracing::warn!(%error, "outbox listener lost its connection; reconnecting");
                        break;
                    }
                }
            }
        }
    }))
}
