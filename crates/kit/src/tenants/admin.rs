//! The operator's changes to tenants themselves (`AdminService`): list,
//! show, rename, disable, enable. Each change is recorded in the tenant's
//! audit trail in the same transaction and, on Postgres, announced there for
//! every one of the tenant's keys, so that every process drops them from its
//! cache at once and asks the registry again (which refuses the keys of a
//! disabled tenant).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{TenantStore, to_tenant};
use crate::{
    audit::{AuditEvent, Origin, insert_event},
    db::{Id, Time},
    domain,
    error::{ApiError, classify_db_error},
    in_tx, on_pool,
    paging::{decode_time_id, encode_time_id},
};

/// How the audit trail names the operator.
pub const ADMIN_ACTOR: &str = "admin";
/// The audit target of a change to the tenant itself.
const TARGET: &str = "tenant";
/// Longest reason for disabling a tenant, in bytes.
const MAX_REASON: usize = 200;

/// A tenant as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRecord {
    /// Id, name and currency.
    pub tenant: super::Tenant,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was disabled; `None` while enabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why, as the operator said; empty while enabled.
    pub disabled_reason: String,
    /// Unrevoked keys.
    pub active_keys: i64,
    /// Revoked keys.
    pub revoked_keys: i64,
}

/// Checks a tenant name: as an id, non-empty and at most 128 bytes.
pub fn check_name(name: &str) -> Result<&str, String> {
    domain::parse_id(name)
}

/// Checks a reason for disabling: required, at most [`MAX_REASON`] bytes.
pub fn check_reason(reason: &str) -> Result<&str, String> {
    if reason.trim().is_empty() {
        return Err("required".to_owned());
    }
    domain::check_text(reason, MAX_REASON)
}

type Row = (Id, String, String, Time, Option<Time>, String, i64, i64);

const SELECT: &str = "SELECT t.id, t.name, t.currency_code, t.created_at, t.disabled_at, \
     t.disabled_reason, \
     (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL), \
     (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id AND k.revoked_at IS NOT NULL) \
     FROM tenants t";

fn to_record(
    (id, name, currency, created, disabled, reason, active, revoked): Row,
) -> Result<TenantRecord, ApiError> {
    Ok(TenantRecord {
        tenant: to_tenant(id.0, name, &currency)?,
        created_at: created.0,
        disabled_at: disabled.map(|t| t.0),
        disabled_reason: reason,
        active_keys: active,
        revoked_keys: revoked,
    })
}

/// Tells every process listening on Postgres that each of tenant `$id`'s
/// keys changed, when the transaction `$tx` commits.
macro_rules! announce_tenant {
    ($db:expr, $tx:ident, $id:expr) => {
        if matches!($db, $crate::db::Db::Postgres(_)) {
            sqlx::query("SELECT pg_notify($1, key_hash) FROM api_keys WHERE tenant_id = $2")
                .bind(super::keys::CHANGES)
                .bind(Id($id))
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// What an operator's change did.
enum Change {
    /// The change was made; recorded and announced.
    Made,
    /// Nothing to change.
    None,
    /// No such tenant.
    Missing,
}

impl TenantStore {
    /// One page of every tenant, oldest first, after the page `token`
    /// names; with the next page's token.
    pub async fn list_tenants(
        &self,
        size: u32,
        token: &str,
    ) -> Result<(Vec<TenantRecord>, String), ApiError> {
        let after = decode_time_id(token).map_err(|r| ApiError::invalid("page_token", r))?;
        let (at, id) = after.unwrap_or((DateTime::UNIX_EPOCH, Uuid::nil()));
        let sql = format!(
            "{SELECT} WHERE t.created_at > $1 OR (t.created_at = $1 AND t.id > $2) \
             ORDER BY t.created_at, t.id LIMIT $3"
        );
        let rows: Vec<Row> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(Time(at))
                .bind(Id(id))
                .bind(i64::from(size) + 1)
                .fetch_all(pool)
                .await
        })
        .map_err(|e| classify_db_error(e, "tenant"))?;
        let mut tenants = rows
            .into_iter()
            .map(to_record)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if tenants.len() > size as usize {
            tenants.truncate(size as usize);
            tenants
                .last()
                .map(|t| encode_time_id(t.created_at, t.tenant.id))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok((tenants, next))
    }

    /// A tenant by id, as the operator sees it.
    pub async fn record(&self, id: Uuid) -> Result<Option<TenantRecord>, ApiError> {
        let sql = format!("{SELECT} WHERE t.id = $1");
        let row: Option<Row> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(Id(id)).fetch_optional(pool).await
        })
        .map_err(|e| classify_db_error(e, "tenant"))?;
        row.map(to_record).transpose()
    }

    /// A tenant by name, as the operator sees it.
    pub async fn record_by_name(&self, name: &str) -> Result<Option<TenantRecord>, ApiError> {
        let sql = format!("{SELECT} WHERE t.name = $1");
        let row: Option<Row> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(name).fetch_optional(pool).await
        })
        .map_err(|e| classify_db_error(e, "tenant"))?;
        row.map(to_record).transpose()
    }

    /// The tenant a `CreateTenant` request with `request_id` made, if any.
    pub(super) async fn by_request(&self, request_id: &str) -> Result<Option<Uuid>, ApiError> {
        let id: Option<Id> = on_pool!(&self.db, pool => {
            sqlx::query_scalar("SELECT id FROM tenants WHERE request_id = $1")
                .bind(request_id)
                .fetch_optional(pool)
                .await
        })
        .map_err(|e| classify_db_error(e, "tenant"))?;
        Ok(id.map(|i| i.0))
    }

    pub(super) async fn record_of(&self, id: Uuid) -> Result<TenantRecord, ApiError> {
        self.record(id).await?.ok_or_else(|| ApiError::NotFound {
            what: "tenant",
            id: id.to_string(),
        })
    }

    /// Renames tenant `id` for the admin request `rpc`; with whether the
    /// name changed. Its current name again changes nothing.
    pub async fn rename(
        &self,
        rpc: &str,
        id: Uuid,
        name: &str,
    ) -> Result<(TenantRecord, bool), ApiError> {
        let db = &self.db;
        let write: Result<Change, sqlx::Error> = async {
            let change = in_tx!(db, tx => {
                let before: Option<String> =
                    sqlx::query_scalar("SELECT name FROM tenants WHERE id = $1")
                        .bind(Id(id))
                        .fetch_optional(&mut *tx)
                        .await?;
                match before {
                    None => Change::Missing,
                    Some(before) if before == name => Change::None,
                    Some(before) => {
                        sqlx::query("UPDATE tenants SET name = $2 WHERE id = $1")
                            .bind(Id(id))
                            .bind(name)
                            .execute(&mut *tx)
                            .await?;
                        let summary = serde_json::json!({
                            "before": { "name": before }, "after": { "name": name },
                        });
                        let event = admin_event(id, rpc, &summary);
                        insert_event!(&mut *tx, event)?;
                        announce_tenant!(db, tx, id);
                        Change::Made
                    }
                }
            });
            Ok(change)
        }
        .await;
        let change = write.map_err(|e| match classify_db_error(e, "tenant") {
            ApiError::AlreadyExists { .. } => ApiError::AlreadyExists {
                reason: "TENANT_EXISTS",
                message: format!("another tenant is named {name:?}"),
            },
            other => other,
        })?;
        self.settle(id, change).await
    }

    /// Disables tenant `id` for the admin request `rpc`: from the moment
    /// this returns, this process refuses its keys, and every other process
    /// within about a second. Disabling a disabled tenant changes nothing.
    pub async fn disable(
        &self,
        rpc: &str,
        id: Uuid,
        reason: &str,
    ) -> Result<(TenantRecord, bool), ApiError> {
        self.set_status(rpc, id, Some(reason)).await
    }

    /// Enables tenant `id` for the admin request `rpc`: its unrevoked keys
    /// work again. Enabling an enabled tenant changes nothing.
    pub async fn enable(&self, rpc: &str, id: Uuid) -> Result<(TenantRecord, bool), ApiError> {
        self.set_status(rpc, id, None).await
    }

    /// Disables tenant `id` for `reason`, or enables it without one; if
    /// that changed it, records and announces the change.
    async fn set_status(
        &self,
        rpc: &str,
        id: Uuid,
        reason: Option<&str>,
    ) -> Result<(TenantRecord, bool), ApiError> {
        let db = &self.db;
        let disable = reason.is_some();
        // Only a tenant in the other state changes, so a repeat is neither
        // recorded nor announced.
        let sql = if disable {
            "UPDATE tenants SET disabled_at = $2, disabled_reason = $3, \
             status_changes = status_changes + 1 WHERE id = $1 AND disabled_at IS NULL"
        } else {
            "UPDATE tenants SET disabled_at = $2, disabled_reason = $3, \
             status_changes = status_changes + 1 WHERE id = $1 AND disabled_at IS NOT NULL"
        };
        let summary = match reason {
            Some(reason) => serde_json::json!({
                "before": { "disabled": false },
                "after": { "disabled": true, "reason": reason },
            }),
            None => serde_json::json!({
                "before": { "disabled": true }, "after": { "disabled": false },
            }),
        };
        let event = admin_event(id, rpc, &summary);
        let now = reason.map(|_| Time(Utc::now()));
        let write: Result<Change, sqlx::Error> = async {
            let change = in_tx!(db, tx => {
                let updated = sqlx::query(sql)
                    .bind(Id(id))
                    .bind(now)
                    .bind(reason.unwrap_or_default())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if updated == 1 {
                    insert_event!(&mut *tx, event)?;
                    announce_tenant!(db, tx, id);
                    Change::Made
                } else {
                    let found: Option<Id> =
                        sqlx::query_scalar("SELECT id FROM tenants WHERE id = $1")
                            .bind(Id(id))
                            .fetch_optional(&mut *tx)
                            .await?;
                    if found.is_some() { Change::None } else { Change::Missing }
                }
            });
            Ok(change)
        }
        .await;
        let change = write.map_err(|e| classify_db_error(e, "tenant"))?;
        self.settle(id, change).await
    }

    /// After a change committed: drops what this process cached about the
    /// tenant, and answers the tenant as it now is.
    async fn settle(&self, id: Uuid, change: Change) -> Result<(TenantRecord, bool), ApiError> {
        let changed = match change {
            Change::Missing => {
                return Err(ApiError::NotFound {
                    what: "tenant",
                    id: id.to_string(),
                });
            }
            Change::None => false,
            Change::Made => {
                self.shared.cache.forget_all();
                self.shared.cache.forget_tenant(id);
                true
            }
        };
        Ok((self.record_of(id).await?, changed))
    }
}

/// An audit event of the operator's on tenant `id`, through `rpc`.
pub(super) fn admin_event(id: Uuid, rpc: &str, summary: &serde_json::Value) -> AuditEvent {
    let origin = Origin {
        tenant: id,
        actor: ADMIN_ACTOR.to_owned(),
        rpc: rpc.into(),
    };
    AuditEvent::new(&origin, TARGET.to_owned(), summary)
}
