//! `TenantsService`: a tenant manages its own API keys with one of them. The
//! tenant comes from the calling key, so no request can name another
//! tenant's key; internal credentials may not call it at all (no caller's
//! allowed methods include it).

use rapport_proto::v1::{
    self as pb, CreateApiKeyRequest, CreateApiKeyResponse, ListApiKeysRequest, ListApiKeysResponse,
    ListAuditEventsRequest, ListAuditEventsResponse, RevokeApiKeyRequest, RevokeApiKeyResponse,
    tenants_service_server::{TenantsService, TenantsServiceServer},
};
use tonic::{Request, Response, Status};

use super::{Principal, TenantContext};
use crate::{
    FieldErrors,
    audit::{AuditEvent, AuditQuery},
    domain::{self, chrono_to_timestamp, timestamp_to_chrono},
    error::ApiError,
    paging,
    tenants::{ApiKey, TenantStore, check_label},
};

/// The handlers, over the tenant registry.
#[derive(Debug, Clone)]
pub struct Keys {
    tenants: TenantStore,
}

impl Keys {
    /// The service, ready to add to a server.
    pub fn service(tenants: TenantStore) -> TenantsServiceServer<Keys> {
        TenantsServiceServer::new(Keys { tenants })
            .max_decoding_message_size(rapport_proto::limits::CONTROL_MAX_BYTES)
    }
}

/// The calling tenant's context; only its own API keys manage keys.
fn tenant_of<T>(request: &Request<T>) -> Result<TenantContext, Status> {
    let ctx = TenantContext::of(request)?;
    match ctx.principal {
        Principal::ApiKey(_) => Ok(ctx),
        Principal::Internal(_) => Err(ApiError::PermissionDenied(
            "keys are managed with the tenant's own API key".into(),
        )
        .into()),
    }
}

fn to_pb(key: ApiKey) -> pb::ApiKey {
    pb::ApiKey {
        id: key.id.to_string(),
        prefix: key.prefix,
        label: key.label,
        created_at: Some(chrono_to_timestamp(key.created_at)),
        last_used_at: key.last_used_at.map(chrono_to_timestamp),
        revoked_at: key.revoked_at.map(chrono_to_timestamp),
    }
}

fn event_to_pb(e: AuditEvent) -> pb::AuditEvent {
    pb::AuditEvent {
        id: e.id.to_string(),
        at: Some(chrono_to_timestamp(e.at)),
        actor: e.actor,
        rpc: e.rpc,
        target: e.target,
        summary: e.summary,
    }
}

/// The query of a `ListAuditEvents` request, its bad fields named.
fn audit_query(req: ListAuditEventsRequest) -> Result<(AuditQuery, u32, String), ApiError> {
    let mut errors = FieldErrors::new();
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let mut time = |field: &'static str, ts: Option<prost_types::Timestamp>| {
        ts.and_then(|ts| errors.check(field, timestamp_to_chrono(&ts)))
    };
    let (since, until) = (time("since", req.since), time("until", req.until));
    for (field, value) in [
        ("rpc", &req.rpc),
        ("target_prefix", &req.target_prefix),
        ("actor", &req.actor),
    ] {
        errors.check(field, domain::check_text(value, 200));
    }
    errors.into_result()?;
    let query = AuditQuery {
        rpc: req.rpc,
        target_prefix: req.target_prefix,
        actor: req.actor,
        since,
        until,
    };
    Ok((query, size.unwrap_or_default(), req.page_token))
}

#[tonic::async_trait]
impl TenantsService for Keys {
    #[tracing::instrument(skip_all)]
    async fn list_api_keys(
        &self,
        request: Request<ListApiKeysRequest>,
    ) -> Result<Response<ListApiKeysResponse>, Status> {
        let ctx = tenant_of(&request)?;
        let req = request.into_inner();
        let size =
            paging::page_size(req.page_size).map_err(|r| ApiError::invalid("page_size", r))?;
        let (keys, next_page_token) = self
            .tenants
            .list_keys(ctx.tenant_id(), size, &req.page_token)
            .await?;
        Ok(Response::new(ListApiKeysResponse {
            keys: keys.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_api_key(
        &self,
        request: Request<CreateApiKeyRequest>,
    ) -> Result<Response<CreateApiKeyResponse>, Status> {
        let ctx = tenant_of(&request)?;
        let req = request.into_inner();
        let mut errors = FieldErrors::new();
        let request_id = errors.check("request_id", domain::parse_id(&req.request_id));
        let label = errors.check("label", check_label(&req.label));
        let (Some(request_id), Some(label)) = (request_id, label) else {
            return Err(ApiError::InvalidArgument(errors).into());
        };
        let issued = self
            .tenants
            .issue_key_audited(&ctx.origin(), label, Some(request_id))
            .await?;
        Ok(Response::new(CreateApiKeyResponse {
            created: issued.secret.is_some(),
            secret: issued.secret.unwrap_or_default(),
            key: Some(to_pb(issued.key)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_api_key(
        &self,
        request: Request<RevokeApiKeyRequest>,
    ) -> Result<Response<RevokeApiKeyResponse>, Status> {
        let ctx = tenant_of(&request)?;
        let req = request.into_inner();
        let id = domain::parse_uuid(&req.key_id).map_err(|r| ApiError::invalid("key_id", r))?;
        let key = self.tenants.revoke_key_audited(&ctx.origin(), id).await?;
        Ok(Response::new(RevokeApiKeyResponse {
            key: Some(to_pb(key)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_audit_events(
        &self,
        request: Request<ListAuditEventsRequest>,
    ) -> Result<Response<ListAuditEventsResponse>, Status> {
        let ctx = tenant_of(&request)?;
        let (query, size, token) = audit_query(request.into_inner())?;
        let (events, next_page_token) = (ctx.audit_log())
            .list(ctx.tenant_id(), &query, size, &token)
            .await?;
        Ok(Response::new(ListAuditEventsResponse {
            events: events.into_iter().map(event_to_pb).collect(),
            next_page_token,
        }))
    }
}
