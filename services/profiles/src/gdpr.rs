//! GDPR export and erasure: profiles gathers or erases what each service
//! holds on one customer through their internal RPCs (called with the
//! profiles service's internal credential, for the caller's tenant).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rapport_kit::{TenantContext, audit, internal::InternalCredentials};
use rapport_proto::v1::{
    self as pb, ingestion_service_client::IngestionServiceClient,
    notifications_service_client::NotificationsServiceClient,
    scoring_service_client::ScoringServiceClient,
};
use serde_json::{Value, json};
use tonic::transport::Channel;
use uuid::Uuid;

use crate::{
    error::Error,
    repo::{Erasure, Repo},
};

/// The services profiles exports from and erases in.
#[derive(Debug, Clone)]
pub struct Peers {
    ingestion: IngestionServiceClient<Channel>,
    scoring: ScoringServiceClient<Channel>,
    notifications: NotificationsServiceClient<Channel>,
    internal: InternalCredentials,
}

impl Peers {
    /// Calls the services behind these clients as `internal`.
    pub fn new(
        ingestion: IngestionServiceClient<Channel>,
        scoring: ScoringServiceClient<Channel>,
        notifications: NotificationsServiceClient<Channel>,
        internal: InternalCredentials,
    ) -> Peers {
        Peers {
            ingestion,
            scoring,
            notifications,
            internal,
        }
    }
}

/// The parts of an erasure, in the order they run: the profile goes last,
/// so the customer can be found until everything else is gone.
const PARTS: [&str; 3] = ["ingestion", "scoring", "notifications"];

/// A peer's failure: its credential refused is the deployment's fault,
/// anything else may pass.
fn unavailable(service: &str, s: tonic::Status) -> Error {
    match s.code() {
        tonic::Code::PermissionDenied | tonic::Code::Unauthenticated => {
            Error::PeerRefused(format!(
                "{service} refused the profiles service's internal credential: {}",
                s.message()
            ))
        }
        _ => Error::Peer(format!("{service}: {}", s.message())),
    }
}

impl Peers {
    async fn export_part(&self, part: &str, tenant: Uuid, customer: Uuid) -> Result<Value, Error> {
        let customer_id = customer.to_string();
        let answer = match part {
            "ingestion" => {
                let req = pb::ExportCustomerActivityRequest {
                    customer_id,
                    limit: 0,
                };
                let req = self.internal.request(tenant, None, req);
                self.ingestion
                    .clone()
                    .export_customer_activity(req)
                    .await
                    .map(|r| r.into_inner().json)
            }
            "scoring" => {
                let req = pb::ExportCustomerScoresRequest {
                    customer_id,
                    limit: 0,
                };
                let req = self.internal.request(tenant, None, req);
                self.scoring
                    .clone()
                    .export_customer_scores(req)
                    .await
                    .map(|r| r.into_inner().json)
            }
            _ => {
                let req = pb::ExportCustomerNotificationsRequest {
                    customer_id,
                    limit: 0,
                };
                let req = self.internal.request(tenant, None, req);
                self.notifications
                    .clone()
                    .export_customer_notifications(req)
                    .await
                    .map(|r| r.into_inner().json)
            }
        };
        let text = answer.map_err(|s| unavailable(part, s))?;
        serde_json::from_str(&text).map_err(|e| Error::Peer(format!("{part}: export: {e}")))
    }

    async fn erase_part(
        &self,
        part: &str,
        tenant: Uuid,
        customer: Uuid,
        erasure: Uuid,
    ) -> Result<HashMap<String, u64>, Error> {
        let (customer_id, erasure_id) = (customer.to_string(), erasure.to_string());
        let answer = match part {
            "ingestion" => {
                let req = pb::EraseCustomerActivityRequest {
                    customer_id,
                    erasure_id,
                };
                let req = self.internal.request(tenant, None, req);
                self.ingestion
                    .clone()
                    .erase_customer_activity(req)
                    .await
                    .map(|r| r.into_inner().counts)
            }
            "scoring" => {
                let req = pb::EraseCustomerScoresRequest {
                    customer_id,
                    erasure_id,
                };
                let req = self.internal.request(tenant, None, req);
                self.scoring
                    .clone()
                    .erase_customer_scores(req)
                    .await
                    .map(|r| r.into_inner().counts)
            }
            _ => {
                let req = pb::EraseCustomerNotificationsRequest {
                    customer_id,
                    erasure_id,
                };
                let req = self.internal.request(tenant, None, req);
                self.notifications
                    .clone()
                    .erase_customer_notifications(req)
                    .await
                    .map(|r| r.into_inner().counts)
            }
        };
        answer.map_err(|s| unavailable(part, s))
    }
}

/// ExportCustomer: the profile and every service's section, as one JSON
/// document; and whether a list was cut.
pub(crate) async fn export(
    repo: &Repo,
    peers: &Peers,
    tenant: Uuid,
    customer: Uuid,
    now: DateTime<Utc>,
) -> Result<(String, bool), Error> {
    let profile = repo.get(tenant, customer).await?.into_proto();
    let mut doc = serde_json::Map::new();
    doc.insert("customer_id".into(), json!(customer.to_string()));
    doc.insert("exported_at".into(), json!(now.to_rfc3339()));
    doc.insert(
        "profile".into(),
        audit::proto_json("rapport.v1.Customer", &profile),
    );
    let mut truncated = false;
    for part in PARTS {
        let section = peers.export_part(part, tenant, customer).await?;
        truncated |= section.get("truncated") == Some(&Value::Bool(true));
        doc.insert(part.to_owned(), section);
    }
    Ok((Value::Object(doc).to_string(), truncated))
}

/// What an erasure did.
pub(crate) struct Erased {
    /// The record; `None` when nothing anywhere was erased.
    pub erasure: Option<Erasure>,
}

impl Erased {
    /// Rows by "<part>.<what>".
    pub fn counts(&self) -> HashMap<String, u64> {
        let Some(e) = &self.erasure else {
            return HashMap::new();
        };
        (e.parts.iter())
            .flat_map(|(part, rows)| rows.iter().map(move |(k, n)| (format!("{part}.{k}"), *n)))
            .collect()
    }
}

/// Renames `customer` after `erasure` in the tenant's audit trail.
async fn rename_in_audit(ctx: &TenantContext, customer: Uuid, erasure: Uuid) -> Result<(), Error> {
    ctx.audit_log()
        .rename_erased_customer(ctx.tenant_id(), customer, erasure)
        .await
        .map(|_| ())
        .map_err(|e| Error::Peer(format!("renaming the customer in the audit trail: {e}")))
}

/// EraseCustomer: resumes the customer's erasure in progress or begins one,
/// runs the parts not done yet, then removes the profile and completes the
/// record. A peer that fails leaves the record in progress (UNAVAILABLE).
pub(crate) async fn erase(
    repo: &Repo,
    peers: &Peers,
    ctx: &TenantContext,
    customer: Uuid,
) -> Result<Erased, Error> {
    let tenant = ctx.tenant_id();
    let now = crate::validate::truncate_micros(Utc::now());
    let mut erasure = repo
        .begin_erasure(tenant, customer, Uuid::now_v7(), now)
        .await?;
    for part in PARTS {
        if erasure.parts.contains_key(part) {
            continue;
        }
        let counts = peers.erase_part(part, tenant, customer, erasure.id).await?;
        erasure.parts.insert(
            part.to_owned(),
            counts.into_iter().collect::<BTreeMap<_, _>>(),
        );
        repo.note_erasure(tenant, &erasure).await?;
    }
    // The trail's consent events name the customer; they are renamed after
    // the erasure before it completes, so a failure here is retried with it.
    rename_in_audit(ctx, customer, erasure.id).await?;
    let now = crate::validate::truncate_micros(Utc::now());
    let Some(erasure) = repo
        .complete_erasure(tenant, customer, erasure, now)
        .await?
    else {
        // A concurrent call for the same customer completed (and recorded)
        // this erasure first; this one erased nothing more.
        return Ok(Erased { erasure: None });
    };
    // A consent change that committed while the erasure ran records its
    // event after committing, possibly after the renaming above: rename again.
    rename_in_audit(ctx, customer, erasure.id).await?;
    let total: u64 = erasure.parts.values().flat_map(|p| p.values()).sum();
    if total == 0 {
        // Nothing anywhere: no erasure to speak of, nothing recorded.
        repo.discard_erasure(tenant, erasure.id).await?;
        return Ok(Erased { erasure: None });
    }
    audit::record(
        ctx,
        format!("erasure:{}", erasure.id),
        json!({
            "requested_at": erasure.requested_at.to_rfc3339(),
            "completed_at": now.to_rfc3339(),
            "parts": erasure.parts,
        }),
    )
    .await;
    tracing::info!(erasure = %erasure.id, rows = total, "customer erased");
    Ok(Erased {
        erasure: Some(erasure),
    })
}

#[cfg(test)]
mod peer_tests {
    use rapport_kit::ApiError;
    use tonic::Code;

    use super::unavailable;

    #[test]
    fn a_refused_credential_is_a_precondition_and_an_outage_is_unavailable() {
        for refused in [
            tonic::Status::permission_denied("internal caller profiles may not call this"),
            tonic::Status::unauthenticated("bad token"),
        ] {
            let e = ApiError::from(unavailable("scoring", refused));
            assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
            assert!(
                matches!(&e, ApiError::FailedPrecondition { reason, message }
                    if *reason == "PEER_CREDENTIAL_REFUSED" && message.contains("scoring")),
                "{e:?}"
            );
        }
        let down = ApiError::from(unavailable("scoring", tonic::Status::unavailable("down")));
        assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    }
}
