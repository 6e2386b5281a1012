//! The cache operations as Redis commands: reads go through the near cache
//! when there is one, and writes go through one Lua script that compares and
//! writes atomically (and announces the write for the near caches).

use super::{RedisCache, conn::hash_tag};
use crate::{
    CacheError, VersionedCache,
    version::{self, Write},
};

/// `ARGV[4]` is [`Overwrite::script_flag`](crate::version::Overwrite::script_flag);
/// `ARGV[5]` the invalidation channel ("" for none). The script touches one key only, so it
/// runs unchanged on Redis Cluster.
pub(super) const PUT_IF_NEWER: &str = r#"
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

impl RedisCache {
    /// Keeps what was read from Redis near, if there is a near cache and
    /// the read saw a live subscription (`epoch`).
    fn fill_near(
        &self,
        key: &str,
        epoch: Option<u64>,
        version: Option<String>,
        value: &Option<Vec<u8>>,
    ) {
        if let (Some(near), Some(epoch), Some(version), Some(value)) =
            (&self.near, epoch, version::decode(version), value)
        {
            near.fill(key, version, value, epoch);
        }
    }
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
        self.fill_near(key, epoch, version, &value);
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
        // One pipeline per hash tag on a cluster, where a pipeline must stay
        // in one slot; those run at once. One pipeline for one server.
        let groups: Vec<Vec<usize>> = if self.conn.is_cluster() {
            let mut groups: Vec<Vec<usize>> = Vec::new();
            let mut by_tag: std::collections::HashMap<&str, usize> = Default::default();
            for &i in &wanted {
                let g = *by_tag.entry(hash_tag(&keys[i])).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[g].push(i);
            }
            groups
        } else {
            vec![wanted]
        };
        let answers: Vec<Vec<(Option<String>, Option<Vec<u8>>)>> = self
            .run("get_many", |conn| {
                let calls = groups.iter().map(|group| {
                    let mut conn = conn.clone();
                    let mut pipe = redis::pipe();
                    for i in group {
                        pipe.cmd("HMGET").arg(&keys[*i]).arg("v").arg("d");
                    }
                    async move { pipe.query_async(&mut conn).await }
                });
                futures::future::try_join_all(calls)
            })
            .await?;
        let wanted: Vec<usize> = groups.into_iter().flatten().collect();
        let fetched: Vec<(Option<String>, Option<Vec<u8>>)> =
            answers.into_iter().flatten().collect();
        if fetched.len() != wanted.len() {
            return Err(CacheError::Backend(format!(
                "{} answers for {} keys",
                fetched.len(),
                wanted.len()
            )));
        }
        for (i, (version, value)) in wanted.into_iter().zip(fetched) {
            self.fill_near(&keys[i], epoch, version, &value);
            out[i] = value;
        }
        Ok(out)
    }

    async fn put(&self, write: Write<'_>) -> Result<bool, CacheError> {
        let Write {
            key,
            version,
            value,
            ttl,
            rule,
        } = write;
        // PEXPIRE refuses 0; a zero TTL still stores for a moment.
        let ttl_ms = ttl.as_millis().clamp(1, i64::MAX as u128) as i64;
        let stored: i64 = self
            .run("put", |mut conn| async move {
                self.put_script
                    .key(key)
                    .arg(version::encode(version))
                    .arg(value)
                    .arg(ttl_ms)
                    .arg(rule.script_flag())
                    .arg(&self.channel)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(stored == 1)
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
