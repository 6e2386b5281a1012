//! One watcher's stream: a task reads the tenant's log a page at a time
//! from its position and sends each page as a response through a channel of
//! two, so a slow reader holds back its own reads (and at most a few pages
//! in memory), never the server. The task ends when the caller goes, when
//! the retention pass overtakes it, when the caller's key is revoked or its
//! tenant disabled (UNAUTHENTICATED, checked at every poll), or on shutdown
//! (UNAVAILABLE: resume elsewhere with the last token).

use std::{collections::HashSet, time::Duration};

use prost::Message;
use rapport_kit::{ApiError, TenantContext};
use rapport_proto::v1::{ScoreChangeEvent, WatchScoreChangesResponse};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{Feed, Position, Slot};
use crate::error::{Error, storage};

/// Reason in the ErrorInfo of a resume token older than the retention window.
pub const RESUME_TOKEN_EXPIRED: &str = "RESUME_TOKEN_EXPIRED";

/// The responses a watcher receives.
pub type Watch = ReceiverStream<Result<WatchScoreChangesResponse, Status>>;

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// After this position (a resume token).
    After(Position),
    /// After what is committed now.
    Now,
    /// At the oldest event retained.
    Oldest,
}

fn expired() -> Error {
    Error::Api(ApiError::FailedPrecondition {
        reason: RESUME_TOKEN_EXPIRED,
        message: "resume_token is older than the retention window: events after it were \
                  deleted; start again from WATCH_START_NOW or WATCH_START_OLDEST_RETAINED"
            .to_owned(),
    })
}

/// Keeps the changes of `kinds` (all when empty); `None` when none is left.
pub(super) fn filtered(mut e: ScoreChangeEvent, kinds: &HashSet<i32>) -> Option<ScoreChangeEvent> {
    if !kinds.is_empty() {
        e.changes.retain(|c| kinds.contains(&c.kind));
    }
    (!e.changes.is_empty()).then_some(e)
}

impl Feed {
    /// Starts watching `tenant`'s changes of `kinds` (every kind when
    /// empty) from `start`. Refuses a resume token the retention pass has
    /// overtaken, and a watcher beyond the tenant's limit.
    pub async fn watch(
        &self,
        ctx: TenantContext,
        start: Start,
        kinds: HashSet<i32>,
    ) -> Result<Watch, Error> {
        if !self.config.enabled {
            return Err(Error::Api(super::disabled()));
        }
        let tenant = ctx.tenant_id();
        let slot = self.admit(tenant).ok_or_else(|| {
            Error::Api(ApiError::ResourceExhausted(format!(
                "this tenant already has {} watchers of score changes on this replica",
                self.config.max_streams_per_tenant
            )))
        })?;
        let horizon = self
            .repo
            .horizon(tenant)
            .await
            .map_err(storage("score changes"))?;
        let from = match start {
            Start::After(p) if p < horizon => return Err(expired()),
            Start::After(p) => p,
            Start::Now => self
                .repo
                .now(tenant)
                .await
                .map_err(storage("score changes"))?,
            Start::Oldest => horizon,
        };
        let (tx, rx) = mpsc::channel(2);
        let feed = self.clone();
        tokio::spawn(async move { feed.run(ctx, from, kinds, tx, slot).await });
        Ok(ReceiverStream::new(rx))
    }

    async fn run(
        self,
        ctx: TenantContext,
        mut at: Position,
        kinds: HashSet<i32>,
        tx: mpsc::Sender<Result<WatchScoreChangesResponse, Status>>,
        _slot: Slot,
    ) {
        // The first response names the start, so a watcher that goes before
        // any event still has a token that misses nothing.
        let first = WatchScoreChangesResponse {
            events: Vec::new(),
            resume_token: at.token(),
        };
        if tx.send(Ok(first)).await.is_err() {
            return;
        }
        let tenant = ctx.tenant_id();
        let poll = Duration::from_millis(self.config.poll_interval_ms);
        let page = self.config.page_size;
        loop {
            // A key revoked or a tenant disabled while the stream runs ends
            // it, as it refuses the key's next call. The answer is the key
            // cache's, kept current by the registry watch; a registry that
            // cannot answer leaves the stream running on what it knew.
            if let Ok(false) = ctx.still_authorized().await {
                let _ = tx
                    .send(Err(Status::unauthenticated(
                        "the api key was revoked or its tenant disabled while watching",
                    )))
                    .await;
                return;
            }
            let read = self.repo.read(tenant, at, page).await;
            // Checked after the read: a pass that deleted past `at` before
            // the read had also moved the horizon.
            let horizon = self.repo.horizon(tenant).await;
            let rows = match (read, horizon) {
                (Ok(_), Ok(h)) if at < h => {
                    let _ = tx.send(Err(expired().into())).await;
                    return;
                }
                (Ok(rows), Ok(_)) => rows,
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, %tenant, "reading score changes failed; retrying");
                    if !super::paused(poll, &self.shutdown).await {
                        let _ = tx.send(Err(shutting_down())).await;
                        return;
                    }
                    continue;
                }
            };
            let full = rows.len() as u32 == page;
            if let Some((last, _)) = rows.last() {
                let mut events = Vec::with_capacity(rows.len());
                for (p, bytes) in rows.iter() {
                    let Ok(mut e) = ScoreChangeEvent::decode(bytes.as_slice()) else {
                        tracing::error!(%tenant, seq = p.seq, "undecodable score change skipped");
                        continue;
                    };
                    e.resume_token = p.token();
                    events.extend(filtered(e, &kinds));
                }
                at = *last;
                let response = WatchScoreChangesResponse {
                    events,
                    resume_token: at.token(),
                };
                if tx.send(Ok(response)).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = tx.closed() => return,
                _ = self.shutdown.wait() => {
                    let _ = tx.send(Err(shutting_down())).await;
                    return;
                }
            }
        }
    }
}

fn shutting_down() -> Status {
    Status::unavailable("the server is shutting down; watch again with the last resume_token")
}
