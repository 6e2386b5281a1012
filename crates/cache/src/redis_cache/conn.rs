//! The connection the cache talks through: one Redis server behind a
//! connection manager, or a Redis Cluster behind redis-rs's cluster client
//! (which follows MOVED and ASK, and learns the slots again after a
//! failover). A cluster URL is `redis+cluster://host:port[,host:port...]`
//! (`rediss+cluster://` through TLS), or several `redis://` URLs separated
//! by commas: the seeds the cluster's layout is first read from.

use std::sync::{Arc, RwLock};

use redis::{
    Cmd, ConnectionInfo, IntoConnectionInfo, Pipeline, RedisFuture, RedisResult, Value,
    aio::{ConnectionLike, ConnectionManager},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
};

/// How the cache reaches Redis; clones share the connection.
#[derive(Clone)]
pub(super) enum Connector {
    /// One server (or a primary behind a proxy), connected lazily.
    Single(ConnectionManager),
    /// A cluster, connected on first use and kept.
    Cluster(Arc<Cluster>),
}

/// A cluster client and its connection, once made.
pub(super) struct Cluster {
    client: ClusterClient,
    conn: RwLock<Option<ClusterConnection>>,
    connecting: tokio::sync::Mutex<()>,
}

impl Connector {
    /// A connector to the cluster `client` reaches.
    pub(super) fn cluster(client: ClusterClient) -> Connector {
        Connector::Cluster(Arc::new(Cluster {
            client,
            conn: RwLock::new(None),
            connecting: tokio::sync::Mutex::new(()),
        }))
    }
}

/// A connection for one call.
#[derive(Clone)]
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Connector {
    /// Whether this reaches a cluster.
    pub(super) fn is_cluster(&self) -> bool {
        matches!(self, Connector::Cluster(_))
    }

    /// A connection, connecting the cluster if it is not yet.
    pub(super) async fn get(&self) -> RedisResult<Conn> {
        match self {
            Connector::Single(manager) => Ok(Conn::Single(manager.clone())),
            Connector::Cluster(cluster) => {
                if let Some(c) = read(&cluster.conn) {
                    return Ok(Conn::Cluster(c));
                }
                // One caller connects; the others wait for its connection.
                let _one = cluster.connecting.lock().await;
                if let Some(c) = read(&cluster.conn) {
                    return Ok(Conn::Cluster(c));
                }
                let made = cluster.client.get_async_connection().await?;
                if let Ok(mut slot) = cluster.conn.write() {
                    *slot = Some(made.clone());
                }
                Ok(Conn::Cluster(made))
            }
        }
    }
}

fn read(conn: &RwLock<Option<ClusterConnection>>) -> Option<ClusterConnection> {
    conn.read().ok().and_then(|c| c.clone())
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// A cache URL: one server, or a cluster's seeds.
pub(super) enum Target {
    Single(String),
    Cluster(Vec<String>),
}

/// Reads a cache URL (see the module's documentation).
pub(super) fn target(url: &str) -> Target {
    let cluster = |rest: &str, scheme: &str| {
        rest.split(',')
            .map(|seed| format!("{scheme}://{}", seed.trim()))
            .collect()
    };
    if let Some(rest) = url.strip_prefix("redis+cluster://") {
        return Target::Cluster(cluster(rest, "redis"));
    }
    if let Some(rest) = url.strip_prefix("rediss+cluster://") {
        return Target::Cluster(cluster(rest, "rediss"));
    }
    if url.contains(',') {
        return Target::Cluster(url.split(',').map(|u| u.trim().to_owned()).collect());
    }
    Target::Single(url.to_owned())
}

/// The seeds' connection details, each with `TCP_NODELAY`.
pub(super) fn seeds(urls: &[String]) -> RedisResult<Vec<ConnectionInfo>> {
    urls.iter()
        .map(|u| {
            Ok(u.as_str()
                .into_connection_info()?
                .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true)))
        })
        .collect()
}

/// The hash tag of `key` (what Redis Cluster places it by): the text
/// between the first `{` and the next `}`, when not empty; else the whole
/// key. Keys with one tag live in one slot, so a pipeline of them is
/// answered by one node.
pub(super) fn hash_tag(key: &str) -> &str {
    if let Some(open) = key.find('{')
        && let Some(len) = key[open + 1..].find('}')
        && len > 0
    {
        return &key[open + 1..open + 1 + len];
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_urls_name_their_seeds() {
        let seeds = |t: Target| match t {
            Target::Cluster(s) => s,
            Target::Single(u) => panic!("{u} read as one server"),
        };
        assert_eq!(
            seeds(target("redis+cluster://a:7000,b:7001")),
            ["redis://a:7000", "redis://b:7001"]
        );
        assert_eq!(
            seeds(target("rediss+cluster://a:7000")),
            ["rediss://a:7000"]
        );
        assert_eq!(
            seeds(target("redis://a:7000, redis://b:7001")),
            ["redis://a:7000", "redis://b:7001"]
        );
        assert!(matches!(target("redis://a:6379/2"), Target::Single(_)));
    }

    #[test]
    fn hash_tags_follow_redis_cluster() {
        assert_eq!(hash_tag("p:{t:0a}:score:c"), "t:0a");
        assert_eq!(hash_tag("p:{}:x"), "p:{}:x");
        assert_eq!(hash_tag("plain"), "plain");
        assert_eq!(hash_tag("a{b}{c}"), "b");
    }
}
