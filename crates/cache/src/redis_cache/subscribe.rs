//! The invalidation subscriber: keeps one replica's near cache current with
//! what every replica writes, and distrusts it whenever the channel drops.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;

use crate::near::{Near, parse_message};

/// Pause before resubscribing after the invalidation channel drops.
const RESUBSCRIBE: Duration = Duration::from_millis(500);

/// Keeps `near` current from the invalidation channel for as long as the
/// cache lives, resubscribing after any loss (and distrusting the near cache
/// until it is back). `clients` are the servers it may subscribe on (one,
/// or a cluster's seeds, where every node hears every PUBLISH); after a
/// loss it tries the next.
pub(super) async fn subscribe(clients: Vec<redis::Client>, channel: String, near: Arc<Near>) {
    let mut next = 0;
    loop {
        let Some(client) = clients.get(next % clients.len().max(1)) else {
            return;
        };
        next += 1;
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    near.resumed();
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Some((version, key)) = parse_message(message.get_payload_bytes()) {
                            near.invalidate(key, version);
                        }
                    }
                    near.lost();
                    tracing::warn!(
                        "redis invalidation channel lost; near cache off until it is back"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "cannot subscribe to redis invalidations"),
            },
            Err(e) => tracing::debug!(error = %e, "redis invalidations unreachable"),
        }
        tokio::time::sleep(RESUBSCRIBE).await;
    }
}
