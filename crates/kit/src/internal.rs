//! Calls between Rapport services: the internal credential, the tenant the
//! call is made for, and the caller's trace context.

use std::time::Duration;

use tonic::{
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};
use uuid::Uuid;

use crate::{config::Secret, telemetry::TraceContext};

mod callers;

pub use callers::{Accepted, Caller, Shape, credentials};

/// Metadata key naming the tenant on internal calls.
pub const TENANT_HEADER: &str = "x-rapport-tenant";

/// The credential one service presents to another.
#[derive(Clone, Debug)]
pub struct InternalCredentials {
    token: Secret,
}

impl InternalCredentials {
    /// Presents `token` (see [`credentials`]).
    pub fn new(token: Secret) -> Self {
        InternalCredentials { token }
    }

    /// The token, to configure the receiving side's authenticator.
    pub fn token(&self) -> &Secret {
        &self.token
    }

    /// Wraps `message` in a request made for `tenant`, as a child of the span
    /// `trace` (the caller's server span).
    pub fn request<T>(
        &self,
        tenant: Uuid,
        trace: Option<&TraceContext>,
        message: T,
    ) -> tonic::Request<T> {
        let mut req = tonic::Request::new(message);
        let md = req.metadata_mut();
        if let Ok(v) = MetadataValue::try_from(format!("Bearer {}", self.token.expose())) {
            md.insert("authorization", v);
        }
        if let Ok(v) = MetadataValue::try_from(tenant.to_string()) {
            md.insert(TENANT_HEADER, v);
        }
        // The caller's span is the parent of the callee's.
        let parent = trace.copied().unwrap_or_else(TraceContext::new_root);
        if let Ok(v) = MetadataValue::try_from(parent.to_header()) {
            md.insert("traceparent", v);
        }
        req
    }
}

/// A channel to another service that connects on first use and reconnects
/// after failures, so start-up order between services does not matter.
pub fn lazy_channel(url: &str, timeout: Duration) -> Result<Channel, tonic::transport::Error> {
    Ok(endpoint(url)?.timeout(timeout).connect_lazy())
}

/// The endpoint of another service at `url`, with the connection settings
/// every internal call shares; the caller adds TLS and the call timeout.
pub fn endpoint(url: &str) -> Result<Endpoint, tonic::transport::Error> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(3))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30)))
}

/// Client interceptor adding `authorization: Bearer <api key>`.
#[derive(Clone, Debug)]
pub struct BearerAuth {
    header: MetadataValue<tonic::metadata::Ascii>,
}

impl BearerAuth {
    /// Authenticates with `api_key`.
    pub fn new(api_key: &str) -> Result<Self, tonic::metadata::errors::InvalidMetadataValue> {
        Ok(BearerAuth {
            header: MetadataValue::try_from(format!("Bearer {api_key}"))?,
        })
    }
}

impl tonic::service::Interceptor for BearerAuth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut()
            .insert("authorization", self.header.clone());
        Ok(req)
    }
}
