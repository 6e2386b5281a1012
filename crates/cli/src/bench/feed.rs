//! The score change feed under the freshness load: a watcher opened before
//! the load hears every event the load causes; how long after its score was
//! written (the event's `at`) each event arrives is set beside the same
//! run's accepted-to-readable time of GetScore.

use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;
use rapport_kit::domain::timestamp_to_chrono;
use rapport_proto::v1::{WatchScoreChangesRequest, WatchStart};
use tokio::{sync::oneshot, task::JoinHandle};

use super::load::{self, Latency};
use crate::client::Clients;

/// A watcher running beside the load.
pub struct FeedWatch {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<(Histogram<u64>, u64)>>,
    started: tokio::time::Instant,
}

/// What the watcher heard.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Heard {
    /// From an event's write to its arrival.
    pub lag: Latency,
    /// Events heard.
    pub events: u64,
    /// Events heard per second of watching.
    pub per_second: f64,
}

/// Opens a watch from now and starts hearing it; `None` when the suite
/// runs with the feed switched off (`feed.enabled = false`).
pub async fn start(clients: &Clients) -> anyhow::Result<Option<FeedWatch>> {
    let opened = clients
        .score_changes
        .clone()
        .watch_score_changes(WatchScoreChangesRequest {
            start: WatchStart::Now as i32,
            ..Default::default()
        })
        .await;
    let mut stream = match opened {
        Ok(r) => r.into_inner(),
        Err(s) if s.code() == tonic::Code::FailedPrecondition => {
            eprintln!("the score change feed is switched off: no feed figures");
            return Ok(None);
        }
        Err(s) => return Err(anyhow::Error::new(s).context("opening a score change watch")),
    };
    // The first response names the start: the watch is in place.
    stream
        .message()
        .await
        .context("the watch's first response")?;
    let (stop, mut stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut lag = load::histogram();
        let mut events = 0u64;
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                message = stream.message() => {
                    let Some(r) = message.context("the score change watch")? else { break };
                    let now = chrono::Utc::now();
                    for e in r.events {
                        events += 1;
                        if let Some(at) = e.at.as_ref().and_then(|t| timestamp_to_chrono(t).ok()) {
                            let us = (now - at).num_microseconds().unwrap_or(0).clamp(1, 600_000_000);
                            lag.record(us as u64).ok();
                        }
                    }
                }
            }
        }
        Ok((lag, events))
    });
    Ok(Some(FeedWatch {
        stop,
        task,
        started: tokio::time::Instant::now(),
    }))
}

impl FeedWatch {
    /// Stops hearing after `grace` (for the last events to arrive).
    pub async fn finish(self, grace: Duration) -> anyhow::Result<Heard> {
        tokio::time::sleep(grace).await;
        let watched = self.started.elapsed().as_secs_f64();
        let _ = self.stop.send(());
        let (lag, events) = self.task.await.context("the watch task")??;
        Ok(Heard {
            lag: Latency::of(&lag),
            events,
            per_second: events as f64 / watched.max(1e-9),
        })
    }
}
