//! Authentication: every RPC but health and reflection carries
//! `authorization: Bearer <credential>`. A tenant API key authenticates as that
//! tenant; an internal credential authenticates a Rapport service acting for
//! the tenant named in `x-rapport-tenant`, allowed only the methods that
//! service calls; the admin token authenticates the operator, allowed
//! `AdminService` and nothing else (it names no tenant), which nothing else
//! may call.

use std::sync::{Arc, OnceLock};

use tonic::Status;
use uuid::Uuid;

use crate::{
    audit::{AuditLog, Origin},
    config::Secret,
    error::ApiError,
    internal::{Accepted, Caller},
    server::middleware::{Answer, GrpcInner, Middleware},
    tenants::{Tenant, TenantStore, Watch, hash_key},
};

mod admin;
mod keys;

pub use crate::internal::TENANT_HEADER;
pub use admin::{ADMIN_SERVICE, Admin, AdminContext};
pub use keys::Keys;

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// A tenant's API key, by its id.
    ApiKey(Uuid),
    /// Another Rapport service.
    Internal(Caller),
}

impl Principal {
    /// How the audit trail names this caller: "api_key:<key id>" or
    /// "internal:<service>".
    pub fn actor(&self) -> String {
        match self {
            Principal::ApiKey(id) => format!("api_key:{id}"),
            Principal::Internal(caller) => format!("internal:{}", caller.name()),
        }
    }
}

/// The authenticated caller, placed in every request's extensions.
#[derive(Debug, Clone)]
pub struct TenantContext {
    /// The tenant whose data this request may touch, and only it.
    pub tenant: Arc<Tenant>,
    /// Who is calling.
    pub principal: Principal,
    /// The method called, "/rapport.v1.Service/Method".
    pub rpc: Arc<str>,
    /// Where changes this request makes are recorded.
    audit: AuditLog,
    /// The API key the call came with, to check again while it runs; `None`
    /// for an internal credential.
    key: Option<KeyCheck>,
}

/// An API key's hash and the registry that answers for it.
#[derive(Clone)]
struct KeyCheck {
    tenants: TenantStore,
    hash: Arc<str>,
}

impl std::fmt::Debug for KeyCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCheck")
    }
}

impl TenantContext {
    /// The tenant context of a request that passed the auth layer.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<TenantContext, Status> {
        request
            .extensions()
            .get::<TenantContext>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("missing credentials"))
    }

    /// The tenant id.
    pub fn tenant_id(&self) -> Uuid {
        self.tenant.id
    }

    /// Who made this request's changes, for the audit trail.
    pub fn origin(&self) -> Origin {
        Origin {
            tenant: self.tenant.id,
            actor: self.principal.actor(),
            rpc: self.rpc.clone(),
        }
    }

    /// The audit trail this request's changes are recorded in (see
    /// [`crate::audit::record`]).
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// Whether the API key this call came with still works: false once the
    /// key is revoked or its tenant disabled, which every replica hears of
    /// within a second. For calls that outlive that second (a stream) to
    /// check as they go; an internal credential is configuration and stays
    /// valid for the process's life.
    pub async fn still_authorized(&self) -> Result<bool, ApiError> {
        let Some(key) = &self.key else {
            return Ok(true);
        };
        let owner = key.tenants.key_owner(&key.hash).await?;
        Ok(owner.is_some_and(|(tenant, _)| tenant.id == self.tenant.id))
    }

    /// Refuses anything but an internal credential.
    pub fn require_internal(&self) -> Result<(), ApiError> {
        match self.principal {
            Principal::Internal(_) => Ok(()),
            Principal::ApiKey(_) => Err(ApiError::PermissionDenied(
                "only Rapport services may call this method".into(),
            )),
        }
    }
}

/// Who a call was authenticated as.
#[derive(Debug, Clone)]
pub enum Authorized {
    /// A tenant's key, or a service acting for a tenant.
    Tenant(TenantContext),
    /// The operator, with the admin token, calling `AdminService`.
    Admin(AdminContext),
}

/// Resolves credentials to tenants through the registry's cache.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    tenants: TenantStore,
    audit: AuditLog,
    internal: Accepted,
    /// SHA-256 of the admin token, if one is configured.
    admin: Option<String>,
    watch: OnceLock<Watch>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Resolves API keys through `tenants`; accepts the `internal`
    /// credentials, each for the methods of the callers it stands for.
    pub fn new(tenants: TenantStore, internal: Accepted) -> Self {
        Authenticator::with_admin(tenants, internal, None)
    }

    /// [`Authenticator::new`] also accepting the operator's `admin` token
    /// for `AdminService` (and only for it); without one, `AdminService`
    /// refuses every call.
    pub fn with_admin(tenants: TenantStore, internal: Accepted, admin: Option<&Secret>) -> Self {
        Authenticator {
            inner: Arc::new(Inner {
                audit: AuditLog::new(tenants.db().clone()),
                tenants,
                internal,
                admin: admin.map(|t| hash_key(t.expose().trim())),
                watch: OnceLock::new(),
            }),
        }
    }

    /// The tenant registry behind this authenticator.
    pub fn tenants(&self) -> &TenantStore {
        &self.inner.tenants
    }

    /// Starts hearing of keys other processes create or revoke (once; a
    /// server calls it), so a revoked key is refused everywhere within about
    /// a second. Needs a Tokio runtime.
    pub fn watch(&self) {
        self.inner.watch.get_or_init(|| self.inner.tenants.watch());
    }

    /// Authenticates a call of `path` (`/package.Service/Method`) with these
    /// headers.
    pub async fn authenticate(
        &self,
        path: &str,
        headers: &http::HeaderMap,
    ) -> Result<TenantContext, Status> {
        match self.authorize(path, headers).await? {
            Authorized::Tenant(ctx) => Ok(ctx),
            Authorized::Admin(_) => Err(Status::permission_denied(
                "the admin token calls only rapport.v1.AdminService",
            )),
        }
    }

    /// Authenticates a call of `path` with these headers: as a tenant's (its
    /// key or a service acting for it), or, for `AdminService`, as the
    /// operator's.
    pub async fn authorize(
        &self,
        path: &str,
        headers: &http::HeaderMap,
    ) -> Result<Authorized, Status> {
        let value = headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(|| Status::unauthenticated("missing authorization: Bearer <api key>"))?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| Status::unauthenticated("authorization must be: Bearer <api key>"))?;
        let hash = hash_key(token);

        let is_admin = self
            .inner
            .admin
            .as_deref()
            .is_some_and(|admin| admin::same(admin, &hash));
        if admin::is_admin_path(path) {
            return self.admin(is_admin, &hash, path).await;
        }
        if is_admin {
            return Err(Status::permission_denied(
                "the admin token names no tenant: it calls only rapport.v1.AdminService",
            ));
        }
        if let Some(callers) = self.inner.internal.callers(&hash) {
            return self
                .internal(callers, path, headers)
                .await
                .map(Authorized::Tenant);
        }
        let (tenant, key_id) = self
            .inner
            .tenants
            .key_owner(&hash)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| {
                Status::unauthenticated("unknown or revoked api key, or its tenant is disabled")
            })?;
        let mut ctx = self.context(tenant, Principal::ApiKey(key_id), path);
        ctx.key = Some(KeyCheck {
            tenants: self.inner.tenants.clone(),
            hash: Arc::from(hash.as_str()),
        });
        Ok(Authorized::Tenant(ctx))
    }

    /// A call of `AdminService`: allowed with the admin token only.
    async fn admin(&self, is_admin: bool, hash: &str, path: &str) -> Result<Authorized, Status> {
        if is_admin {
            return Ok(Authorized::Admin(AdminContext::new(path)));
        }
        if self.inner.admin.is_none() {
            return Err(Status::permission_denied(
                "AdminService is off: no admin token is configured (RAPPORT_ADMIN_TOKEN)",
            ));
        }
        let known = self.inner.internal.callers(hash).is_some()
            || (self.inner.tenants.key_owner(hash).await)
                .map_err(unavailable)?
                .is_some();
        if known {
            return Err(Status::permission_denied(
                "AdminService takes the admin token (RAPPORT_ADMIN_TOKEN), not a tenant's API key or a service's credential",
            ));
        }
        Err(Status::unauthenticated("unknown admin token"))
    }

    fn context(&self, tenant: Arc<Tenant>, principal: Principal, path: &str) -> TenantContext {
        TenantContext {
            tenant,
            principal,
            rpc: Arc::from(path),
            audit: self.inner.audit.clone(),
            key: None,
        }
    }

    /// An internal call: allowed if one of the `callers` the credential
    /// stands for may call `path`, for the tenant the header names.
    async fn internal(
        &self,
        callers: &[Caller],
        path: &str,
        headers: &http::HeaderMap,
    ) -> Result<TenantContext, Status> {
        let Some(caller) = callers.iter().copied().find(|c| c.may_call(path)) else {
            let names: Vec<&str> = callers.iter().map(|c| c.name()).collect();
            return Err(ApiError::PermissionDenied(format!(
                "the internal credential of {} may not call {path}",
                names.join(", ")
            ))
            .into());
        };
        let id = headers
            .get(TENANT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Uuid::parse_str(v).ok())
            .ok_or_else(|| Status::unauthenticated("internal call without x-rapport-tenant"))?;
        let tenant = self.tenant_by_id(id).await?;
        Ok(self.context(tenant, Principal::Internal(caller), path))
    }

    /// A tenant by id (for internal calls and background work), cached.
    pub async fn tenant_by_id(&self, id: Uuid) -> Result<Arc<Tenant>, Status> {
        self.inner
            .tenants
            .tenant_cached(id)
            .await
            .map_err(Status::from)?
            .ok_or_else(|| Status::unauthenticated("unknown tenant"))
    }
}

fn unavailable(e: ApiError) -> Status {
    match e {
        ApiError::Unavailable(_) => Status::unavailable("credential store unavailable"),
        other => Status::from(other),
    }
}

/// Paths served without credentials: health checks and reflection.
pub fn is_public(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
        || path.starts_with("/grpc.reflection.v1.ServerReflection/")
        || path.starts_with("/grpc.reflection.v1alpha.ServerReflection/")
}

/// The server's authentication middleware: authenticates every non-public
/// request and puts the [`TenantContext`] in its extensions.
impl<S: GrpcInner<B>, B: Send + 'static> Middleware<S, B> for Authenticator {
    fn call(&self, mut inner: S, mut req: http::Request<B>) -> Answer<S, B> {
        if is_public(req.uri().path()) {
            return Box::pin(inner.call(req));
        }
        let auth = self.clone();
        Box::pin(async move {
            match auth.authorize(req.uri().path(), req.headers()).await {
                Ok(Authorized::Tenant(ctx)) => {
                    tracing::Span::current()
                        .record("tenant", tracing::field::display(ctx.tenant.id));
                    req.extensions_mut().insert(ctx);
                    inner.call(req).await
                }
                Ok(Authorized::Admin(ctx)) => {
                    req.extensions_mut().insert(ctx);
                    inner.call(req).await
                }
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests;
