//! Wakes this process's relays when another replica commits a change, so
//! they do not wait for the next poll.

use std::time::Duration;

use rapport_kit::shutdown::Shutdown;

use super::MAX_BACKOFF;
use crate::repo;

/// Forwards `NOTIFY`s of other replicas' commits, heard on `listen_on`, to
/// this process's relays; reconnects after failures. `None` without a pool to
/// listen on: on SQLite, which has one process, and behind a transaction-mode
/// pooler with no direct connection, where the relay polls.
pub(super) fn listen(
    listen_on: Option<sqlx::PgPool>,
    shutdown: Shutdown,
) -> Option<tokio::task::JoinHandle<()>> {
    let pool = listen_on?;
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
