//! Authentication: every RPC but health and reflection carries
//! `authorization: Bearer <credential>`. A tenant API key authenticates as that
//! tenant; the internal service credential authenticates a Rapport service
//! acting for the tenant named in `x-rapport-tenant`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tonic::Status;
use uuid::Uuid;

use crate::{
    config::Secret,
    error::ApiError,
    server::middleware::{Answer, GrpcInner, Middleware},
    tenants::{Tenant, TenantStore, hash_key},
};

/// Metadata key naming the tenant on internal calls.
pub const TENANT_HEADER: &str = "x-rapport-tenant";
/// How long a resolved credential is trusted before it is looked up again
/// (the delay with which a revoked key stops working).
const CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_MAX: usize = 10_000;

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// A tenant's API key.
    ApiKey,
    /// Another Rapport service.
    Internal,
}

/// The authenticated caller, placed in every request's extensions.
#[derive(Debug, Clone)]
pub struct TenantContext {
    /// The tenant whose data this request may touch, and only it.
    pub tenant: Arc<Tenant>,
    /// Who is calling.
    pub principal: Principal,
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

    /// Refuses anything but the internal service credential.
    pub fn require_internal(&self) -> Result<(), ApiError> {
        match self.principal {
            Principal::Internal => Ok(()),
            Principal::ApiKey => Err(ApiError::PermissionDenied(
                "only Rapport services may call this method".into(),
            )),
        }
    }
}

/// Resolves credentials to tenants, with a short-lived cache.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    tenants: TenantStore,
    internal_hash: Option<String>,
    keys: Mutex<HashMap<String, (Arc<Tenant>, Instant)>>,
    ids: Mutex<HashMap<Uuid, (Arc<Tenant>, Instant)>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Resolves API keys through `tenants`; accepts `internal_token` as the
    /// service credential when given.
    pub fn new(tenants: TenantStore, internal_token: Option<&Secret>) -> Self {
        Authenticator {
            inner: Arc::new(Inner {
                tenants,
                internal_hash: internal_token.map(|t| hash_key(t.expose())),
                keys: Mutex::default(),
                ids: Mutex::default(),
            }),
        }
    }

    /// The tenant registry behind this authenticator.
    pub fn tenants(&self) -> &TenantStore {
        &self.inner.tenants
    }

    /// Authenticates the request headers.
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<TenantContext, Status> {
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

        if self.inner.internal_hash.as_deref() == Some(hash.as_str()) {
            let id = headers
                .get(TENANT_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| Uuid::parse_str(v).ok())
                .ok_or_else(|| Status::unauthenticated("internal call without x-rapport-tenant"))?;
            let tenant = self.tenant_by_id(id).await?;
            return Ok(TenantContext {
                tenant,
                principal: Principal::Internal,
            });
        }

        if let Some(t) = cached(&self.inner.keys, &hash) {
            return Ok(TenantContext {
                tenant: t,
                principal: Principal::ApiKey,
            });
        }
        let tenant = self
            .inner
            .tenants
            .by_key_hash(&hash)
            .await
            .map_err(|e| match e {
                ApiError::Unavailable(_) => Status::unavailable("credential store unavailable"),
                other => Status::from(other),
            })?
            .ok_or_else(|| Status::unauthenticated("unknown or revoked api key"))?;
        let tenant = Arc::new(tenant);
        remember(&self.inner.keys, hash, tenant.clone());
        Ok(TenantContext {
            tenant,
            principal: Principal::ApiKey,
        })
    }

    /// A tenant by id (for internal calls and background work), cached.
    pub async fn tenant_by_id(&self, id: Uuid) -> Result<Arc<Tenant>, Status> {
        if let Some(t) = cached(&self.inner.ids, &id) {
            return Ok(t);
        }
        let tenant = self
            .inner
            .tenants
            .by_id(id)
            .await
            .map_err(Status::from)?
            .ok_or_else(|| Status::unauthenticated("unknown tenant"))?;
        let tenant = Arc::new(tenant);
        remember(&self.inner.ids, id, tenant.clone());
        Ok(tenant)
    }
}

fn cached<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, (Arc<Tenant>, Instant)>>,
    key: &K,
) -> Option<Arc<Tenant>> {
    let map = map.lock().unwrap_or_else(|p| p.into_inner());
    map.get(key)
        .filter(|(_, at)| at.elapsed() < CACHE_TTL)
        .map(|(t, _)| t.clone())
}

fn remember<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, (Arc<Tenant>, Instant)>>,
    key: K,
    tenant: Arc<Tenant>,
) {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= CACHE_MAX {
        map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
        if map.len() >= CACHE_MAX {
            map.clear();
        }
    }
    map.insert(key, (tenant, Instant::now()));
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
            match auth.authenticate(req.headers()).await {
                Ok(ctx) => {
                    tracing::Span::current()
                        .record("tenant", tracing::field::display(ctx.tenant.id));
                    req.extensions_mut().insert(ctx);
                    inner.call(req).await
                }
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}
