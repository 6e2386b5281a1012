//! `TenantsService`: a tenant manages its own API keys with one of them. The
//! tenant comes from the calling key, so no request can name another
//! tenant's key; internal credentials may not call it at all (no caller's
//! allowed methods include it).

use rapport_proto::v1::{
    self as pb, CreateApiKeyRequest, CreateApiKeyResponse, ListApiKeysRequest, ListApiKeysResponse,
    RevokeApiKeyRequest, RevokeApiKeyResponse,
    tenants_service_server::{TenantsService, TenantsServiceServer},
};
use tonic::{Request, Response, Status};

use super::{Principal, TenantContext};
use crate::{
    FieldErrors,
    domain::{self, chrono_to_timestamp},
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
        Principal::ApiKey => Ok(ctx),
        Principal::Internal => Err(ApiError::PermissionDenied(
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
            .issue_key(ctx.tenant_id(), label, Some(request_id))
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
        let key = self.tenants.revoke_key(ctx.tenant_id(), id).await?;
        Ok(Response::new(RevokeApiKeyResponse {
            key: Some(to_pb(key)),
        }))
    }
}
