//! The Redis-backed cache: each entry is a hash of the version (`v`) and the
//! value (`d`), behind short timeouts and a circuit breaker so that a dead
//! Redis costs callers next to nothing.

mod conn;
mod ops;
mod subscribe;

use std::{future::Future, sync::Arc, time::Duration};

use redis::{
    ClientTlsConfig, ErrorKind, IntoConnectionInfo, RedisError, RedisResult, Script,
    TlsCertificates,
    aio::{ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClient,
    io::tcp::TcpSettings,
};

use crate::{CacheError, breaker::Breaker, near::Near};
use conn::{Conn, Connector, Target};

/// Connecting and each command time out after this long.
const IO_TIMEOUT: Duration = Duration::from_millis(100);
/// A whole call (a connection attempt plus the command) gives up after this.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How long calls fail fast after a failure before Redis is tried again.
const COOLDOWN: Duration = Duration::from_secs(1);

/// A [`VersionedCache`](crate::VersionedCache) in Redis, with short timeouts and a circuit breaker
/// so that a dead Redis costs callers next to nothing.
pub struct RedisCache {
    conn: Connector,
    breaker: Breaker,
    put_script: Script,
    /// Where writes announce themselves ("" for nowhere).
    channel: String,
    near: Option<Arc<Near>>,
    subscriber: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for RedisCache {
    fn drop(&mut self) {
        if let Some(s) = &self.subscriber {
            s.abort();
        }
    }
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").finish_non_exhaustive()
    }
}

/// What a `rediss://` connection trusts and presents, as PEM bytes. The
/// default trusts the system's roots and presents nothing.
#[derive(Clone, Default)]
pub struct RedisTls {
    /// CA the server's certificate must chain to, instead of the system's.
    pub ca: Option<Vec<u8>>,
    /// Certificate and key for a Redis that requires client certificates.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for RedisTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTls")
            .field("ca", &self.ca.is_some())
            .field("client", &self.client.is_some())
            .finish()
    }
}

impl RedisCache {
    /// Prepares a cache at `url` (`redis://host:port/db`). Connects in the
    /// background, so it succeeds while Redis is down (calls then report
    /// [`CacheError::Unavailable`] until it answers); fails only for a
    /// malformed URL.
    pub async fn new(url: &str) -> Result<RedisCache, CacheError> {
        RedisCache::with_tls(url, "", 0, &RedisTls::default()).await
    }

    /// A cache at `url` whose writes announce themselves on `channel`, with
    /// a near cache of up to `near_bytes` in front of it (none for 0) that
    /// those announcements keep current. Every replica sharing a Redis must
    /// use the same channel.
    pub async fn with_near(
        url: &str,
        channel: &str,
        near_bytes: usize,
    ) -> Result<RedisCache, CacheError> {
        RedisCache::with_tls(url, channel, near_bytes, &RedisTls::default()).await
    }

    /// Whether the near cache is answering (its invalidation subscription
    /// is live); false without a near cache.
    pub fn near_live(&self) -> bool {
        self.near.as_ref().is_some_and(|n| n.epoch().is_some())
    }

    /// [`RedisCache::with_near`] where a `rediss://` URL is reached through
    /// TLS as `tls` says (`redis://` ignores it). A cluster's URL
    /// (`redis+cluster://host:port,host:port`, or several `redis://` URLs
    /// separated by commas) reaches Redis Cluster; the invalidations are
    /// then heard on one node at a time (Redis Cluster carries a PUBLISH to
    /// every node).
    pub async fn with_tls(
        url: &str,
        channel: &str,
        near_bytes: usize,
        tls: &RedisTls,
    ) -> Result<RedisCache, CacheError> {
        let invalid = |e: RedisError| CacheError::InvalidUrl(e.to_string());
        let certificates = || TlsCertificates {
            client_tls: tls
                .client
                .clone()
                .map(|(client_cert, client_key)| ClientTlsConfig {
                    client_cert,
                    client_key,
                }),
            root_cert: tls.ca.clone(),
        };
        let custom = tls.ca.is_some() || tls.client.is_some();
        // A client per server (the one, or each seed): for the connection
        // manager and for the invalidation subscription.
        let single = |url: &str| -> Result<redis::Client, CacheError> {
            // redis-rs leaves Nagle's algorithm on; pipelined commands would
            // then wait on delayed ACKs.
            let info = url
                .into_connection_info()
                .map_err(invalid)?
                .set_tcp_settings(TcpSettings::default().set_nodelay(true));
            if custom && url.starts_with("rediss://") {
                redis::Client::build_with_tls(info, certificates())
            } else {
                redis::Client::open(info)
            }
            .map_err(invalid)
        };
        let (conn, clients) = match conn::target(url) {
            Target::Single(url) => {
                let client = single(&url)?;
                // No retries inside the manager: the breaker decides when to
                // try again, and a retry loop would hold the caller far past
                // the timeouts.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(IO_TIMEOUT))
                    .set_response_timeout(Some(IO_TIMEOUT))
                    .set_number_of_retries(0);
                let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
                    .map_err(invalid)?;
                (Connector::Single(manager), vec![client])
            }
            Target::Cluster(seeds) => {
                let mut builder = ClusterClient::builder(conn::seeds(&seeds).map_err(invalid)?)
                    .connection_timeout(IO_TIMEOUT)
                    .response_timeout(IO_TIMEOUT)
                    .retries(0);
                if custom && seeds.iter().any(|s| s.starts_with("rediss://")) {
                    builder = builder.certs(certificates());
                }
                let client = builder.build().map_err(invalid)?;
                let clients = seeds.iter().map(|s| single(s)).collect::<Result<_, _>>()?;
                (Connector::cluster(client), clients)
            }
        };
        let near = (near_bytes > 0 && !channel.is_empty()).then(|| Arc::new(Near::new(near_bytes)));
        let subscriber = near
            .clone()
            .map(|near| tokio::spawn(subscribe::subscribe(clients, channel.to_owned(), near)));
        // Warm the connection so the first request does not pay for it.
        let warm = conn.clone();
        tokio::spawn(async move {
            let ping = async {
                let mut conn = warm.get().await?;
                redis::cmd("PING").query_async::<String>(&mut conn).await
            };
            if let Err(e) = ping.await {
                tracing::warn!(error = %e, "redis not answering at start; cache bypassed until it does");
            }
        });
        Ok(RedisCache {
            conn,
            breaker: Breaker::new(COOLDOWN),
            put_script: Script::new(ops::PUT_IF_NEWER),
            channel: channel.to_owned(),
            near,
            subscriber,
        })
    }

    async fn run<T, F, Fut>(&self, op: &'static str, f: F) -> Result<T, CacheError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if self.breaker.is_open() {
            return Err(CacheError::Unavailable(
                "redis failed recently; not retried yet".into(),
            ));
        }
        let call = async { f(self.conn.get().await?).await };
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) if answered(&e) => Err(CacheError::Backend(format!("{op}: {e}"))),
            Ok(Err(e)) => Err(self.unavailable(op, e.to_string())),
            Err(_) => Err(self.unavailable(op, "timed out".to_owned())),
        }
    }

    fn unavailable(&self, op: &'static str, error: String) -> CacheError {
        if self.breaker.trip() {
            tracing::warn!(op, error = %error, cooldown_ms = COOLDOWN.as_millis() as u64, "redis unavailable; cache bypassed");
        }
        CacheError::Unavailable(format!("{op}: {error}"))
    }
}

/// True when Redis itself answered with an error (a bad command, a wrong
/// type): Redis is up, so the breaker stays closed.
fn answered(e: &RedisError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Server(_) | ErrorKind::UnexpectedReturnType | ErrorKind::Parse
    )
}
