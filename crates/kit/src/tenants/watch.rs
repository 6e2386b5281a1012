//! Hears of key changes made by other processes (a key issued or revoked,
//! its tenant disabled or enabled) and drops them from this process's cache:
//! on Postgres through `LISTEN` (each change is announced in the transaction
//! that makes it); on SQLite, and on Postgres behind a transaction-mode pooler
//! with no direct connection to listen on, by polling a stamp of the key and
//! tenant tables twice a second (on SQLite the store lives in one file another
//! process, such as the command line, may write to).

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use sqlx::postgres::{PgListener, PgPool};

use super::{Shared, keys::CHANGES};
use crate::db::Db;

/// How often the SQLite stamp is read.
const POLL: Duration = Duration::from_millis(500);
/// Pause before connecting the listener again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// The watcher's task; stopped when dropped.
#[derive(Debug)]
pub(crate) struct Watch(tokio::task::JoinHandle<()>);

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts watching for key changes on behalf of `shared`'s cache: through
/// `LISTEN` on `listen` when there is one, else by polling `db`; the task
/// ends when the cache is gone. Needs a Tokio runtime.
pub(super) fn spawn(db: Db, listen_on: Option<PgPool>, shared: &Arc<Shared>) -> Watch {
    let shared = Arc::downgrade(shared);
    Watch(tokio::spawn(async move {
        match listen_on {
            Some(pool) => listen(pool, shared).await,
            None => poll(db, shared).await,
        }
    }))
}

async fn listen(pool: PgPool, shared: Weak<Shared>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => {
                tracing::debug!(error = %e, "key change listener cannot connect; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANGES).await {
            tracing::debug!(error = %e, "key change listener cannot listen; retrying");
            tokio::time::sleep(RETRY).await;
            continue;
        }
        // Whatever changed before listening began was not heard of.
        let Some(s) = shared.upgrade() else { return };
        s.cache.forget_all();
        drop(s);
        loop {
            let heard = listener.try_recv().await;
            let Some(s) = shared.upgrade() else { return };
            match heard {
                Ok(Some(notice)) => s.cache.forget(notice.payload()),
                // The connection dropped: listen again, forgetting every
                // cached key once listening resumes. Until then cached keys
                // keep their TTL, so a database outage does not also refuse
                // every caller whose key was known.
                Ok(None) => break,
                Err(sqlx::Error::PoolClosed) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "key change listener failed; reconnecting");
                    break;
                }
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

async fn poll(db: Db, shared: Weak<Shared>) {
    let mut last: Option<(i64, i64, i64)> = None;
    let mut tick = tokio::time::interval(POLL);
    loop {
        tick.tick().await;
        // Keys are never deleted: the count grows with every key issued, the
        // count of revocations with every revocation, and the tenants' count
        // of status changes with every disable and enable.
        let stamp: Result<(i64, i64, i64), _> = crate::on_pool!(&db, pool => {
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM api_keys), (SELECT count(revoked_at) FROM api_keys), \
                 (SELECT CAST(coalesce(sum(status_changes), 0) AS BIGINT) FROM tenants)",
            )
            .fetch_one(pool)
            .await
        });
        let Some(s) = shared.upgrade() else { return };
        match stamp {
            Ok(stamp) => {
                if last.is_some_and(|l| l != stamp) {
                    s.cache.forget_all();
                }
                last = Some(stamp);
            }
            Err(sqlx::Error::PoolClosed) => return,
            // Not migrated yet, or busy: try again next tick.
            Err(_) => {}
        }
    }
}
