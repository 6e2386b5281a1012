//! The audit trail: who changed what, per tenant, in the registry's
//! `audit_events` table, next to the keys that made the changes.
//!
//! A change is recorded with [`record`] by the handler that made it, right
//! after the change committed and only if it changed something: a change
//! that failed is never recorded, and an idempotent repeat that changes
//! nothing adds no event. Each service keeps its data in its own schema (or
//! SQLite file), not the registry's, so the event cannot share the change's
//! transaction; if writing it fails, the change stands, the caller is told
//! it succeeded (it did), and the failure is logged as an error. Key changes
//! live in the registry itself and are recorded in the same transaction.
//!
//! The trail is append-only: this module has no update or delete, and the
//! table's triggers refuse both. Summaries hold no secret and no personal
//! data: ids, configuration names, versions, flags.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    TenantContext,
    db::{Db, Id, Time},
    error::{ApiError, classify_db_error},
    in_tx, on_pool,
    paging::{decode_time_id, encode_time_id},
};

/// Writes and reads the audit trail in the tenant registry.
#[derive(Debug, Clone)]
pub struct AuditLog {
    db: Db,
}

/// Who made a change, and through which method: what every event of one
/// request shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The tenant whose data changed.
    pub tenant: Uuid,
    /// "api_key:<key id>" or "internal:<service>".
    pub actor: String,
    /// The full method name, "/rapport.v1.Service/Method".
    pub rpc: Arc<str>,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Time-ordered id (UUIDv7).
    pub id: Uuid,
    /// The tenant whose data changed.
    pub tenant_id: Uuid,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// Who: see [`Origin::actor`].
    pub actor: String,
    /// The full method name.
    pub rpc: String,
    /// What changed: "settings", "rule:<id>", "customer:<id>/consent/email", ...
    pub target: String,
    /// A short JSON object: what changed, before and after where there is a
    /// before.
    pub summary: String,
}

impl AuditEvent {
    /// A new event of `origin` on `target`, now.
    pub fn new(origin: &Origin, target: String, summary: &serde_json::Value) -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            tenant_id: origin.tenant,
            at: Utc::now(),
            actor: origin.actor.clone(),
            rpc: origin.rpc.to_string(),
            target,
            summary: summary.to_string(),
        }
    }
}

/// Which events to list; empty strings and `None` match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// A full method name, or the method name alone ("PublishRule").
    pub rpc: String,
    /// Targets starting with this.
    pub target_prefix: String,
    /// Exactly this actor.
    pub actor: String,
    /// At or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// Inserts an [`AuditEvent`] with executor `$ex` (inside `on_pool!`/`in_tx!`).
macro_rules! insert_event {
    ($ex:expr, $event:expr) => {
        sqlx::query(
            "INSERT INTO audit_events (id, tenant_id, at, actor, rpc, target, summary) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($crate::db::Id($event.id))
        .bind($crate::db::Id($event.tenant_id))
        .bind($crate::db::Time($event.at))
        .bind(&$event.actor)
        .bind(&$event.rpc)
        .bind(&$event.target)
        .bind(&$event.summary)
        .execute($ex)
        .await
    };
}
pub(crate) use insert_event;

type Row = (Id, Id, Time, String, String, String, String);

fn to_event((id, tenant, at, actor, rpc, target, summary): Row) -> AuditEvent {
    AuditEvent {
        id: id.0,
        tenant_id: tenant.0,
        at: at.0,
        actor,
        rpc,
        target,
        summary,
    }
}

const LIST: &str = "SELECT id, tenant_id, at, actor, rpc, target, summary FROM audit_events \
     WHERE tenant_id = $1 \
     AND ($2 = '' OR rpc = '/' || $2 OR substr(rpc, length(rpc) - length($2)) = '/' || $2) \
     AND ($3 = '' OR substr(target, 1, length($3)) = $3) \
     AND ($4 = '' OR actor = $4) \
     AND ($5 IS NULL OR at >= $5) \
     AND ($6 IS NULL OR at < $6) \
     AND ($7 IS NULL OR at < $7 OR (at = $7 AND id < $8)) \
     ORDER BY at DESC, id DESC LIMIT $9";

impl AuditLog {
    /// The trail in the registry pool `db` (schema [`crate::tenants::SCHEMA`]).
    pub fn new(db: Db) -> AuditLog {
        AuditLog { db }
    }

    /// Appends events, all or none: on Postgres in one statement (`UNNEST`),
    /// on SQLite row by row in one transaction.
    pub async fn append(&self, events: &[AuditEvent]) -> Result<(), ApiError> {
        let write: Result<(), sqlx::Error> = async {
            match &self.db {
                Db::Postgres(pool) => {
                    let column = |f: fn(&AuditEvent) -> String| -> Vec<String> {
                        events.iter().map(f).collect()
                    };
                    sqlx::query(include_str!("../sql/audit_append.sql"))
                        .bind(events.iter().map(|e| e.id).collect::<Vec<Uuid>>())
                        .bind(events.iter().map(|e| e.tenant_id).collect::<Vec<Uuid>>())
                        .bind(events.iter().map(|e| e.at).collect::<Vec<DateTime<Utc>>>())
                        .bind(column(|e| e.actor.clone()))
                        .bind(column(|e| e.rpc.clone()))
                        .bind(column(|e| e.target.clone()))
                        .bind(column(|e| e.summary.clone()))
                        .execute(pool)
                        .await?;
                }
                Db::Sqlite(_) => in_tx!(&self.db, tx => {
                    for event in events {
                        insert_event!(&mut *tx, event)?;
                    }
                }),
            }
            Ok(())
        }
        .await;
        write.map_err(|e| classify_db_error(e, "audit event"))
    }

    /// One page of `tenant`'s events matching `query`, newest first, after
    /// the page `token` names; with the next page's token.
    pub async fn list(
        &self,
        tenant: Uuid,
        query: &AuditQuery,
        size: u32,
        token: &str,
    ) -> Result<(Vec<AuditEvent>, String), ApiError> {
        let after = decode_time_id(token)
            .map_err(|r| ApiError::invalid("page_token", r))?
            .map(|(at, id)| (Time(at), Id(id)));
        let (at, id) = (after.map(|a| a.0), after.map(|a| a.1));
        let rows: Vec<Row> = on_pool!(&self.db, pool => {
            sqlx::query_as(LIST)
                .bind(Id(tenant))
                .bind(query.rpc.trim_start_matches('/'))
                .bind(&query.target_prefix)
                .bind(&query.actor)
                .bind(query.since.map(Time))
                .bind(query.until.map(Time))
                .bind(at)
                .bind(id)
                .bind(i64::from(size) + 1)
                .fetch_all(pool)
                .await
        })
        .map_err(|e| classify_db_error(e, "audit event"))?;
        let mut events: Vec<AuditEvent> = rows.into_iter().map(to_event).collect();
        let next = if events.len() > size as usize {
            events.truncate(size as usize);
            events
                .last()
                .map(|e| encode_time_id(e.at, e.id))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok((events, next))
    }

    /// Replaces `customer` by `erasure` in the targets of `tenant`'s events
    /// naming the customer (`customer:<id>/consent/<channel>` becomes
    /// `erasure:<erasure id>/consent/<channel>`), the one rewrite the trail
    /// allows; returns how many it rewrote. Idempotent: a second call finds
    /// none.
    pub async fn rename_erased_customer(
        &self,
        tenant: Uuid,
        customer: Uuid,
        erasure: Uuid,
    ) -> Result<u64, ApiError> {
        let from = format!("customer:{customer}/");
        let to = format!("erasure:{erasure}/");
        let rewritten = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE audit_events SET target = $3 || substr(target, length($2) + 1) \
                 WHERE tenant_id = $1 AND substr(target, 1, length($2)) = $2",
            )
            .bind(Id(tenant))
            .bind(&from)
            .bind(&to)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        });
        rewritten.map_err(|e| classify_db_error(e, "audit event"))
    }
}

/// Records that the request `ctx` changed `target` as `summary` says. Call
/// it after the change committed, and only when it changed something. A
/// failure to write is logged, not returned: the change stands either way.
pub async fn record(ctx: &TenantContext, target: impl Into<String>, summary: serde_json::Value) {
    record_all(ctx, [(target.into(), summary)]).await;
}

/// [`record`] for several changes of one request (a batch), written
/// together.
pub async fn record_all(
    ctx: &TenantContext,
    changes: impl IntoIterator<Item = (String, serde_json::Value)>,
) {
    let origin = ctx.origin();
    let events: Vec<AuditEvent> = changes
        .into_iter()
        .map(|(target, summary)| AuditEvent::new(&origin, target, &summary))
        .collect();
    if events.is_empty() {
        return;
    }
    if let Err(e) = ctx.audit_log().append(&events).await {
        tracing::error!(
            error = %e,
            rpc = %origin.rpc,
            events = events.len(),
            "writing audit events failed; the changes stand unrecorded"
        );
    }
}

/// The proto3 JSON form of `message`, a message of Rapport's contracts named
/// `full_name` ("rapport.v1.ScoringSettings"), to diff with [`diff`]; `null`
/// if the name is unknown. Only for messages that hold neither secrets nor
/// personal data.
pub fn proto_json(full_name: &str, message: &impl prost::Message) -> serde_json::Value {
    let Some(desc) = crate::server::json::pool().get_message_by_name(full_name) else {
        return serde_json::Value::Null;
    };
    prost_reflect::DynamicMessage::decode(desc, message.encode_to_vec().as_slice())
        .ok()
        .and_then(|m| serde_json::to_value(&m).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// The top-level fields of two JSON objects that differ, as
/// `{"before": {..}, "after": {..}}`; a field missing on one side is `null`
/// there. Fields named in `skip` are left out (timestamps, versions kept
/// elsewhere).
pub fn diff(
    before: &serde_json::Value,
    after: &serde_json::Value,
    skip: &[&str],
) -> serde_json::Value {
    let empty = serde_json::Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let (mut was, mut now) = (serde_json::Map::new(), serde_json::Map::new());
    for key in keys.into_iter().filter(|k| !skip.contains(&k.as_str())) {
        let (x, y) = (b.get(key), a.get(key));
        if x != y {
            was.insert(key.clone(), x.cloned().unwrap_or_default());
            now.insert(key.clone(), y.cloned().unwrap_or_default());
        }
    }
    serde_json::json!({ "before": was, "after": now })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use crate::{Principal, internal::Caller};

    #[test]
    fn actors_name_the_key_or_the_service() {
        let id = Uuid::nil();
        assert_eq!(
            Principal::ApiKey(id).actor(),
            "api_key:00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(
            Principal::Internal(Caller::Scoring).actor(),
            "internal:scoring"
        );
    }

    #[test]
    fn diff_keeps_only_what_changed() {
        let before = json!({"a": 1, "b": 2, "at": "x"});
        let after = json!({"a": 1, "b": 3, "c": true, "at": "y"});
        assert_eq!(
            super::diff(&before, &after, &["at"]),
            json!({"before": {"b": 2, "c": null}, "after": {"b": 3, "c": true}})
        );
    }
}
