//! The Redis-backed cache. Each entry is a hash holding the version (`v`,
//! zero-padded so string order is numeric order) and the value (`d`); one Lua
//! script compares and writes atomically, so concurrent writers cannot
//! interleave between the check and the write. The script touches one key
//! only, so it runs unchanged on Redis Cluster. When it writes, it also
//! publishes the key and version on the invalidation channel, which keeps
//! every replica's near cache ([`crate::near`]) current.

use std::{future::Future, sync::Arc, time::Duration};

use redis::{
    ErrorKind, IntoConnectionInfo, RedisError, RedisResult, Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
    io::tcp::TcpSettings,
};

use crate::{CacheError, VersionedCache, breaker::Breaker, near::Near};

/// Connecting and each command time out after this long.
const IO_TIMEOUT: Duration = Duration::from_millis(100);
/// A whole call (a connection attempt plus the command) gives up after this.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How long calls fail fast after a failure before Redis is tried again.
const COOLDOWN: Duration = Duration::from_secs(1);

/// ARGV[4] is "1" to replace an entry of the same version, "0" to keep it;
/// ARGV[5] the invalidation channel ("" for none).
const PUT_IF_NEWER: &str = r#"
local current = redis.call('HGET', KEYS[1], 'v')
if current and (current > ARGV[1] or (current == ARGV[1] and ARGV[4] == '0')) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[5] ~= '' then
  redis.call('PUBLISH', ARGV[5], ARGV[1] .. ' ' .. KEYS[1])
end
return 1
"#;

/// Pause before resubscribing after the invalidation channel drops.
const RESUBSCRIBE: Duration = Duration::from_millis(500);

/// A [`VersionedCache`] in Redis, with short timeouts and a circuit breaker
/// so that a dead Redis costs callers next to nothing.
pub struct RedisCache {
    conn: ConnectionManager,
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

impl RedisCache {
    /// Prepares a cache at `url` (`redis://host:port/db`). Connects in the
    /// background, so it succeeds while Redis is down (calls then report
    /// [`CacheError::Unavailable`] until it answers); fails only for a
    /// malformed URL.
    pub async fn new(url: &str) -> Result<RedisCache, CacheError> {
        RedisCache::open(url, "", 0).await
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
        RedisCache::open(url, channel, near_bytes).await
    }

    /// Whether the near cache is answering (its invalidation subscription
    /// is live); false without a near cache.
    pub fn near_live(&self) -> bool {
        self.near.as_ref().is_some_and(|n| n.epoch().is_some())
    }

    async fn open(url: &str, channel: &str, near_bytes: usize) -> Result<RedisCache, CacheError> {
        // redis-rs leaves Nagle's algorithm on; pipelined commands would then
        // wait on delayed ACKs.
        let info = url
            .into_connection_info()
            .map_err(|e| CacheError::InvalidUrl(e.to_string()))?
            .set_tcp_settings(TcpSettings::default().set_nodelay(true));
        let client =
            redis::Client::open(info).map_err(|e| CacheError::InvalidUrl(e.to_string()))?;
        // No retries inside the manager: the breaker decides when to try again,
        // and a retry loop would hold the caller far past the timeouts.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(IO_TIMEOUT))
            .set_response_timeout(Some(IO_TIMEOUT))
            .set_number_of_retries(0);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| CacheError::InvalidUrl(e.to_string()))?;
        let near = (near_bytes > 0 && !channel.is_empty()).then(|| Arc::new(Near::new(near_bytes)));
        let subscriber = near
            .clone()
            .map(|near| tokio::spawn(subscribe(client, channel.to_owned(), near)));
        let cache = RedisCache {
            conn,
            breaker: Breaker::new(COOLDOWN),
            put_script: Script::new(PUT_IF_NEWER),
            channel: channel.to_owned(),
            near,
            subscriber,
        };
        // Warm the connection so the first request does not pay for it.
        let mut warm = cache.conn.clone();
        tokio::spawn(async move {
            let res: RedisResult<String> = redis::cmd("PING").query_async(&mut warm).await;
            if let Err(e) = res {
                tracing::warn!(error = %e, "redis not answering at start; cache bypassed until it does");
            }
        });
        Ok(cache)
    }

    async fn run<T, F, Fut>(&self, op: &'static str, f: F) -> Result<T, CacheError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if self.breaker.is_open() {
            return Err(CacheError::Unavailable(
                "redis failed recently; not retried yet".into(),
            ));
        }
        match tokio::time::timeout(CALL_TIMEOUT, f(self.conn.clone())).await {
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

/// Keeps `near` current from the invalidation channel for as long as the
/// cache lives, resubscribing after any loss (and distrusting the near cache
/// until it is back).
async fn subscribe(client: redis::Client, channel: String, near: Arc<Near>) {
    use futures::StreamExt;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    near.resumed();
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Some((version, key)) =
                            crate::near::parse_message(message.get_payload_bytes())
                        {
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

/// A stored version as Redis holds it.
fn parse_version(v: Option<String>) -> Option<u64> {
    v.and_then(|v| v.parse().ok())
}

impl RedisCache {
    async fn put(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
        replace_equal: bool,
    ) -> Result<bool, CacheError> {
        // PEXPIRE refuses 0; a zero TTL still stores for a moment.
        let ttl_ms = ttl.as_millis().clamp(1, i64::MAX as u128) as i64;
        let stored: i64 = self
            .run("put", |mut conn| async move {
                self.put_script
                    .key(key)
                    .arg(format!("{version:020}"))
                    .arg(value)
                    .arg(ttl_ms)
                    .arg(if replace_equal { "1" } else { "0" })
                    .arg(&self.channel)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(stored == 1)
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

#[async_trait::async_trait]
impl VersionedCache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let epoch = match &self.near {
            Some(near) => {
                if let Some(hit) = near.get(key) {
                    return Ok(Some(hit));
                }
                near.epoch()
            }
            None => None,
        };
        let (version, value): (Option<String>, Option<Vec<u8>>) = self
            .run("get", |mut conn| async move {
                redis::cmd("HMGET")
                    .arg(key)
                    .arg("v")
                    .arg("d")
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        if let (Some(near), Some(epoch), Some(version), Some(value)) =
            (&self.near, epoch, parse_version(version), &value)
        {
            near.fill(key, version, value, epoch);
        }
        Ok(value)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let epoch = self.near.as_ref().and_then(|n| n.epoch());
        let mut out: Vec<Option<Vec<u8>>> = match &self.near {
            Some(near) => keys.iter().map(|k| near.get(k)).collect(),
            None => vec![None; keys.len()],
        };
        let wanted: Vec<usize> = (0..keys.len()).filter(|i| out[*i].is_none()).collect();
        if wanted.is_empty() {
            return Ok(out);
        }
        let asked = &wanted;
        let fetched: Vec<(Option<String>, Option<Vec<u8>>)> = self
            .run("get_many", |mut conn| async move {
                let mut pipe = redis::pipe();
                for i in asked {
                    pipe.cmd("HMGET").arg(&keys[*i]).arg("v").arg("d");
                }
                pipe.query_async(&mut conn).await
            })
            .await?;
        if fetched.len() != wanted.len() {
            return Err(CacheError::Backend(format!(
                "{} answers for {} keys",
                fetched.len(),
                wanted.len()
            )));
        }
        for (i, (version, value)) in wanted.into_iter().zip(fetched) {
            if let (Some(near), Some(epoch), Some(version), Some(value)) =
                (&self.near, epoch, parse_version(version), &value)
            {
                near.fill(&keys[i], version, value, epoch);
            }
            out[i] = value;
        }
        Ok(out)
    }

    async fn put_if_newer(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.put(key, version, value, ttl, false).await
    }

    async fn put_unless_newer(
        &self,
        key: &str,
        version: u64,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        self.put(key, version, value, ttl, true).await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let channel = &self.channel;
        self.run("delete", |mut conn| async move {
            let mut pipe = redis::pipe();
            pipe.cmd("DEL").arg(key).ignore();
            if !channel.is_empty() {
                // Every version is gone: near caches drop it and refuse
                // fills of anything read before.
                pipe.cmd("PUBLISH")
                    .arg(channel)
                    .arg(format!("{} {key}", u64::MAX))
                    .ignore();
            }
            pipe.exec_async(&mut conn).await
        })
        .await?;
        if let Some(near) = &self.near {
            near.invalidate(key, u64::MAX);
        }
        Ok(())
    }
}
