//! `AdminService`: the operator manages every tenant with the admin token.
//! The authenticator lets only that token through to it (and lets the token
//! through to nothing else); each handler parses, calls the registry,
//! converts.

use std::sync::Arc;

use rapport_proto::v1::{
    self as pb, CreateTenantRequest, CreateTenantResponse, DisableTenantRequest,
    DisableTenantResponse, EnableTenantRequest, EnableTenantResponse, GetTenantRequest,
    GetTenantResponse, ListTenantsRequest, ListTenantsResponse, RenameTenantRequest,
    RenameTenantResponse,
    admin_service_server::{AdminService, AdminServiceServer},
};
use tonic::{Request, Response, Status};

use crate::{
    FieldErrors,
    domain::{self, chrono_to_timestamp},
    error::ApiError,
    paging,
    tenants::{TenantRecord, TenantStore, check_name, check_reason},
};

/// The full name of the service, which only the admin token may call.
pub const ADMIN_SERVICE: &str = "rapport.v1.AdminService";

/// Whether `path` is a method of `AdminService`.
pub(super) fn is_admin_path(path: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|p| p.strip_prefix(ADMIN_SERVICE))
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether two hashes are equal, in time that does not depend on where they
/// differ.
pub(super) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The operator's call, placed in the request's extensions by the
/// authenticator.
#[derive(Debug, Clone)]
pub struct AdminContext {
    /// The method called, "/rapport.v1.AdminService/Method".
    pub rpc: Arc<str>,
}

impl AdminContext {
    pub(super) fn new(path: &str) -> AdminContext {
        AdminContext {
            rpc: Arc::from(path),
        }
    }

    /// The admin context of a request that passed the auth layer.
    pub fn of<T>(request: &Request<T>) -> Result<AdminContext, Status> {
        request
            .extensions()
            .get::<AdminContext>()
            .cloned()
            .ok_or_else(|| Status::permission_denied("AdminService takes the admin token"))
    }
}

/// The handlers, over the tenant registry.
#[derive(Debug, Clone)]
pub struct Admin {
    tenants: TenantStore,
}

impl Admin {
    /// The service, ready to add to a server.
    pub fn service(tenants: TenantStore) -> AdminServiceServer<Admin> {
        AdminServiceServer::new(Admin { tenants })
            .max_decoding_message_size(rapport_proto::limits::CONTROL_MAX_BYTES)
    }
}

fn to_pb(t: TenantRecord) -> pb::Tenant {
    pb::Tenant {
        id: t.tenant.id.to_string(),
        name: t.tenant.name,
        currency_code: t.tenant.currency.as_str().to_owned(),
        created_at: Some(chrono_to_timestamp(t.created_at)),
        disabled_at: t.disabled_at.map(chrono_to_timestamp),
        disabled_reason: t.disabled_reason,
        active_keys: t.active_keys,
        revoked_keys: t.revoked_keys,
    }
}

fn not_found(what: String) -> ApiError {
    ApiError::NotFound {
        what: "tenant",
        id: what,
    }
}

#[tonic::async_trait]
impl AdminService for Admin {
    #[tracing::instrument(skip_all)]
    async fn list_tenants(
        &self,
        request: Request<ListTenantsRequest>,
    ) -> Result<Response<ListTenantsResponse>, Status> {
        AdminContext::of(&request)?;
        let req = request.into_inner();
        let size =
            paging::page_size(req.page_size).map_err(|r| ApiError::invalid("page_size", r))?;
        let (tenants, next_page_token) = self.tenants.list_tenants(size, &req.page_token).await?;
        Ok(Response::new(ListTenantsResponse {
            tenants: tenants.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_tenant(
        &self,
        request: Request<GetTenantRequest>,
    ) -> Result<Response<GetTenantResponse>, Status> {
        AdminContext::of(&request)?;
        let req = request.into_inner();
        let found = match (req.tenant_id.is_empty(), req.name.is_empty()) {
            (false, true) => {
                let id = domain::parse_uuid(&req.tenant_id)
                    .map_err(|r| ApiError::invalid("tenant_id", r))?;
                self.tenants.record(id).await?
            }
            (true, false) => {
                let name = check_name(&req.name).map_err(|r| ApiError::invalid("name", r))?;
                self.tenants.record_by_name(name).await?
            }
            (true, true) => {
                return Err(ApiError::invalid("tenant_id", "required (or a name)").into());
            }
            (false, false) => {
                return Err(ApiError::invalid("name", "give tenant_id or name, not both").into());
            }
        };
        let what = if req.name.is_empty() {
            req.tenant_id
        } else {
            req.name
        };
        let tenant = found.ok_or_else(|| not_found(what))?;
        Ok(Response::new(GetTenantResponse {
            tenant: Some(to_pb(tenant)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_tenant(
        &self,
        request: Request<CreateTenantRequest>,
    ) -> Result<Response<CreateTenantResponse>, Status> {
        let ctx = AdminContext::of(&request)?;
        let req = request.into_inner();
        let mut errors = FieldErrors::new();
        let request_id = errors.check("request_id", domain::parse_id(&req.request_id));
        let name = errors.check("name", check_name(&req.name));
        let currency = if req.currency_code.is_empty() {
            "EUR"
        } else {
            &req.currency_code
        };
        errors.check("currency_code", domain::CurrencyCode::parse(currency));
        let (Some(request_id), Some(name)) = (request_id, name) else {
            return Err(ApiError::InvalidArgument(errors).into());
        };
        errors.into_result()?;
        let (tenant, key) = self
            .tenants
            .create_tenant(&ctx.rpc, request_id, name, currency)
            .await?;
        Ok(Response::new(CreateTenantResponse {
            tenant: Some(to_pb(tenant)),
            created: key.is_some(),
            api_key: key.unwrap_or_default(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn rename_tenant(
        &self,
        request: Request<RenameTenantRequest>,
    ) -> Result<Response<RenameTenantResponse>, Status> {
        let ctx = AdminContext::of(&request)?;
        let req = request.into_inner();
        let mut errors = FieldErrors::new();
        let id = errors.check("tenant_id", domain::parse_uuid(&req.tenant_id));
        let name = errors.check("name", check_name(&req.name));
        let (Some(id), Some(name)) = (id, name) else {
            return Err(ApiError::InvalidArgument(errors).into());
        };
        let (tenant, changed) = self.tenants.rename(&ctx.rpc, id, name).await?;
        Ok(Response::new(RenameTenantResponse {
            tenant: Some(to_pb(tenant)),
            changed,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn disable_tenant(
        &self,
        request: Request<DisableTenantRequest>,
    ) -> Result<Response<DisableTenantResponse>, Status> {
        let ctx = AdminContext::of(&request)?;
        let req = request.into_inner();
        let mut errors = FieldErrors::new();
        let id = errors.check("tenant_id", domain::parse_uuid(&req.tenant_id));
        let reason = errors.check("reason", check_reason(&req.reason));
        let (Some(id), Some(reason)) = (id, reason) else {
            return Err(ApiError::InvalidArgument(errors).into());
        };
        let (tenant, changed) = self.tenants.disable(&ctx.rpc, id, reason).await?;
        if changed {
            tracing::info!(tenant = %id, "tenant disabled");
        }
        Ok(Response::new(DisableTenantResponse {
            tenant: Some(to_pb(tenant)),
            changed,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn enable_tenant(
        &self,
        request: Request<EnableTenantRequest>,
    ) -> Result<Response<EnableTenantResponse>, Status> {
        let ctx = AdminContext::of(&request)?;
        let req = request.into_inner();
        let id =
            domain::parse_uuid(&req.tenant_id).map_err(|r| ApiError::invalid("tenant_id", r))?;
        let (tenant, changed) = self.tenants.enable(&ctx.rpc, id).await?;
        if changed {
            tracing::info!(tenant = %id, "tenant enabled");
        }
        Ok(Response::new(EnableTenantResponse {
            tenant: Some(to_pb(tenant)),
            changed,
        }))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_admin_service_paths_are_admin_paths() {
        assert!(super::is_admin_path("/rapport.v1.AdminService/ListTenants"));
        assert!(!super::is_admin_path(
            "/rapport.v1.AdminServiceX/ListTenants"
        ));
        assert!(!super::is_admin_path(
            "/rapport.v1.TenantsService/ListApiKeys"
        ));
    }

    #[test]
    fn same_compares_whole_strings() {
        assert!(super::same("abc", "abc"));
        assert!(!super::same("abc", "abd"));
        assert!(!super::same("abc", "ab"));
    }
}
