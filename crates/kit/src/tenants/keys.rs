//! A tenant's API keys, managed by id and a short prefix of the key, never by
//! the key itself: issued (the key shown once), listed, revoked. Every change
//! drops the key from this process's cache at once and, on Postgres, is
//! announced in the same transaction to every other process (see `watch`).

use chrono::{DateTime, Utc};
use rand::RngCore;
use uuid::Uuid;

use super::{TenantStore, hash_key};
use crate::{
    audit::{AuditEvent, Origin, insert_event},
    db::{Id, Time},
    domain,
    error::{ApiError, classify_db_error},
    in_tx, on_pool,
    paging::{decode_time_id, encode_time_id},
};

/// The Postgres channel key changes are announced on; the payload is the
/// key's hash.
pub(super) const CHANGES: &str = "rapport_api_keys";

/// Characters of a key kept as its prefix: "rpk_" and 8 of its 48 random hex
/// digits (32 of 192 bits), enough to tell keys apart, too few to guess one.
pub(super) const PREFIX_LEN: usize = 12;
/// Longest label accepted, in bytes.
const MAX_LABEL: usize = 100;

/// An API key as it can be shown: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Stable id, by which the key is managed.
    pub id: Uuid,
    /// The tenant the key authenticates as.
    pub tenant_id: Uuid,
    /// The key's first characters (`rpk_1a2b3c4d`); empty for keys made
    /// before prefixes were kept.
    pub prefix: String,
    /// What the key is for.
    pub label: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request, to within the cache lifetime.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; it authenticates nothing since.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just issued: its record and, this once, the key itself; `None`
/// when the request id had already issued it (the key is not kept).
#[derive(Debug, Clone)]
pub struct IssuedKey {
    /// The record.
    pub key: ApiKey,
    /// The key, to hand to its user now.
    pub secret: Option<String>,
}

/// A new random key.
pub(super) fn new_key() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("rpk_{}", hex::encode(bytes))
}

/// A new key for `tenant`, ready to insert.
pub(super) struct NewKey {
    pub(super) id: Uuid,
    pub(super) tenant: Uuid,
    pub(super) secret: String,
    pub(super) hash: String,
    pub(super) label: String,
    pub(super) request_id: Option<String>,
    pub(super) at: DateTime<Utc>,
}

impl NewKey {
    pub(super) fn new(tenant: Uuid, label: &str, request_id: Option<&str>) -> NewKey {
        let secret = new_key();
        NewKey {
            id: Uuid::new_v4(),
            tenant,
            hash: hash_key(&secret),
            secret,
            label: label.to_owned(),
            request_id: request_id.map(str::to_owned),
            at: Utc::now(),
        }
    }

    fn record(&self) -> ApiKey {
        ApiKey {
            id: self.id,
            tenant_id: self.tenant,
            prefix: self.secret[..PREFIX_LEN].to_owned(),
            label: self.label.clone(),
            created_at: self.at,
            last_used_at: None,
            revoked_at: None,
        }
    }
}

/// Inserts a [`NewKey`] with executor `$ex` (inside `on_pool!`/`in_tx!`).
macro_rules! insert_key {
    ($ex:expr, $key:expr) => {
        sqlx::query(
            "INSERT INTO api_keys (key_hash, id, tenant_id, prefix, label, request_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&$key.hash)
        .bind($crate::db::Id($key.id))
        .bind($crate::db::Id($key.tenant))
        .bind(&$key.secret[..$crate::tenants::keys::PREFIX_LEN])
        .bind(&$key.label)
        .bind($key.request_id.as_deref())
        .bind($crate::db::Time($key.at))
        .execute($ex)
        .await
    };
}
pub(super) use insert_key;

/// Tells every other process listening on Postgres that key `$hash` changed,
/// when the transaction `$tx` commits; on SQLite the watcher polls instead.
macro_rules! announce {
    ($db:expr, $tx:ident, $hash:expr) => {
        if matches!($db, $crate::db::Db::Postgres(_)) {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind($crate::tenants::keys::CHANGES)
                .bind($hash)
                .execute(&mut *$tx)
                .await?;
        }
    };
}
pub(super) use announce;

type KeyRow = (Id, Id, String, String, Time, Option<Time>, Option<Time>);

const COLUMNS: &str = "id, tenant_id, prefix, label, created_at, last_used_at, revoked_at";

fn to_key((id, tenant, prefix, label, created, used, revoked): KeyRow) -> ApiKey {
    ApiKey {
        id: id.0,
        tenant_id: tenant.0,
        prefix,
        label,
        created_at: created.0,
        last_used_at: used.map(|t| t.0),
        revoked_at: revoked.map(|t| t.0),
    }
}

/// Checks a label: free text of at most [`MAX_LABEL`] bytes.
pub fn check_label(label: &str) -> Result<&str, String> {
    domain::check_text(label, MAX_LABEL)
}

impl TenantStore {
    /// Issues a key for `tenant`. With a `request_id`, issuing is idempotent:
    /// the same id again answers the key it issued, without the secret.
    pub async fn issue_key(
        &self,
        tenant: Uuid,
        label: &str,
        request_id: Option<&str>,
    ) -> Result<IssuedKey, ApiError> {
        self.issue(NewKey::new(tenant, label, request_id), None)
            .await
    }

    /// [`TenantStore::issue_key`] for a request of `origin`'s, recorded in
    /// the audit trail in the same transaction (a repeated request id issues
    /// nothing and records nothing).
    pub async fn issue_key_audited(
        &self,
        origin: &Origin,
        label: &str,
        request_id: Option<&str>,
    ) -> Result<IssuedKey, ApiError> {
        let new = NewKey::new(origin.tenant, label, request_id);
        self.issue(new, Some(origin)).await
    }

    /// Stores `new`; see [`TenantStore::issue_key`].
    pub(super) async fn issue(
        &self,
        new: NewKey,
        origin: Option<&Origin>,
    ) -> Result<IssuedKey, ApiError> {
        let db = &self.db;
        let event = origin.map(|o| {
            let summary = serde_json::json!({
                "created": { "key_id": new.id, "label": new.label },
            });
            AuditEvent::new(o, format!("api_key:{}", new.id), &summary)
        });
        let write: Result<_, sqlx::Error> = async {
            in_tx!(db, tx => {
                insert_key!(&mut *tx, new)?;
                if let Some(event) = &event {
                    insert_event!(&mut *tx, event)?;
                }
                announce!(db, tx, &new.hash);
            });
            Ok(())
        }
        .await;
        match write.map_err(|e| classify_db_error(e, "api key")) {
            Ok(()) => {
                self.shared.cache.forget(&new.hash);
                Ok(IssuedKey {
                    key: new.record(),
                    secret: Some(new.secret),
                })
            }
            Err(ApiError::AlreadyExists { .. }) if new.request_id.is_some() => {
                let request_id = new.request_id.as_deref().unwrap_or_default();
                Ok(IssuedKey {
                    key: self.key_by_request(new.tenant, request_id).await?,
                    secret: None,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn key_by_request(&self, tenant: Uuid, request_id: &str) -> Result<ApiKey, ApiError> {
        let sql =
            format!("SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 AND request_id = $2");
        let row: Option<KeyRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(Id(tenant)).bind(request_id).fetch_optional(pool).await
        })
        .map_err(|e| classify_db_error(e, "api key"))?;
        row.map(to_key).ok_or_else(|| ApiError::NotFound {
            what: "api key",
            id: request_id.to_owned(),
        })
    }

    /// A key by id, whichever its tenant (for the operator's command line;
    /// tenant-facing callers use [`TenantStore::list_keys`] or revoke by
    /// tenant and id).
    pub async fn key_by_id(&self, id: Uuid) -> Result<Option<ApiKey>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
        let row: Option<KeyRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(Id(id)).fetch_optional(pool).await
        })
        .map_err(|e| classify_db_error(e, "api key"))?;
        Ok(row.map(to_key))
    }

    /// One page of `tenant`'s keys, revoked ones included, oldest first,
    /// after the page `token` names; with the next page's token.
    pub async fn list_keys(
        &self,
        tenant: Uuid,
        size: u32,
        token: &str,
    ) -> Result<(Vec<ApiKey>, String), ApiError> {
        let after = decode_time_id(token)
            .map_err(|r| ApiError::invalid("page_token", r))?
            .map(|(at, id)| (Time(at), Id(id)));
        // The first page starts after every key (none was made before 1970).
        let (at, id) = after.unwrap_or((Time(DateTime::UNIX_EPOCH), Id(Uuid::nil())));
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 \
             AND (created_at > $2 OR (created_at = $2 AND id > $3)) \
             ORDER BY created_at, id LIMIT $4"
        );
        let rows: Vec<KeyRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(Id(tenant))
                .bind(at)
                .bind(id)
                .bind(i64::from(size) + 1)
                .fetch_all(pool)
                .await
        })
        .map_err(|e| classify_db_error(e, "api key"))?;
        let mut keys: Vec<ApiKey> = rows.into_iter().map(to_key).collect();
        let next = if keys.len() > size as usize {
            keys.truncate(size as usize);
            keys.last()
                .map(|k| encode_time_id(k.created_at, k.id))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok((keys, next))
    }

    /// Revokes `tenant`'s key `id`: from the moment this returns, this
    /// process refuses it, and on Postgres every other process within about
    /// a second. Revoking a revoked key changes nothing and answers it again.
    pub async fn revoke_key(&self, tenant: Uuid, id: Uuid) -> Result<ApiKey, ApiError> {
        self.revoke(tenant, id, None).await
    }

    /// [`TenantStore::revoke_key`] for a request of `origin`'s, recorded in
    /// the audit trail in the same transaction (revoking a revoked key
    /// records nothing).
    pub async fn revoke_key_audited(&self, origin: &Origin, id: Uuid) -> Result<ApiKey, ApiError> {
        self.revoke(origin.tenant, id, Some(origin)).await
    }

    async fn revoke(
        &self,
        tenant: Uuid,
        id: Uuid,
        origin: Option<&Origin>,
    ) -> Result<ApiKey, ApiError> {
        let db = &self.db;
        let now = Time(Utc::now());
        let event = origin.map(|o| {
            let summary = serde_json::json!({
                "key_id": id, "before": { "revoked": false }, "after": { "revoked": true },
            });
            AuditEvent::new(o, format!("api_key:{id}"), &summary)
        });
        let write: Result<Option<String>, sqlx::Error> = async {
            let hash = in_tx!(db, tx => {
                // Only an unrevoked key changes, so only a real revocation is
                // announced and recorded.
                let revoked: Option<String> = sqlx::query_scalar(
                    "UPDATE api_keys SET revoked_at = $3 \
                     WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING key_hash",
                )
                .bind(Id(id))
                .bind(Id(tenant))
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                match &revoked {
                    Some(hash) => {
                        if let Some(event) = &event {
                            insert_event!(&mut *tx, event)?;
                        }
                        announce!(db, tx, hash);
                        revoked
                    }
                    None => sqlx::query_scalar(
                        "SELECT key_hash FROM api_keys WHERE id = $1 AND tenant_id = $2",
                    )
                    .bind(Id(id))
                    .bind(Id(tenant))
                    .fetch_optional(&mut *tx)
                    .await?,
                }
            });
            Ok(hash)
        }
        .await;
        let hash = write.map_err(|e| classify_db_error(e, "api key"))?;
        let not_found = || ApiError::NotFound {
            what: "api key",
            id: id.to_string(),
        };
        self.shared.cache.forget(&hash.ok_or_else(not_found)?);
        self.key_by_id(id).await?.ok_or_else(not_found)
    }

    /// Records that the key with this hash authenticated a request now.
    pub(super) async fn touch_key(&self, hash: &str) -> Result<(), ApiError> {
        on_pool!(&self.db, pool => {
            sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE key_hash = $1")
                .bind(hash)
                .bind(Time(Utc::now()))
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(|e| classify_db_error(e, "api key"))
    }
}
