//! Logging and trace context. Logs are structured (`tracing`), filtered by
//! `RUST_LOG`, pretty or JSON. Each request runs in a span carrying its W3C
//! trace id, which internal calls pass on in `traceparent`, so one id follows
//! a request through all four services.

use std::{
    task::{Context, Poll},
    time::Instant,
};

use futures::future::BoxFuture;
use rand::RngCore;
use tower::{Layer, Service};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Later calls (tests) are no-ops.
pub fn init(format: LogFormat) {
    init_with(format, "info,sqlx=warn");
}

/// Like [`init`], with `default_filter` when `RUST_LOG` is unset.
pub fn init_with(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// A W3C trace context (`traceparent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    /// 16-byte trace id, shared by every span of one request.
    pub trace_id: [u8; 16],
    /// 8-byte id of the current span.
    pub span_id: [u8; 8],
}

impl TraceContext {
    /// A new trace.
    pub fn new_root() -> Self {
        let mut trace_id = [0u8; 16];
        let mut span_id = [0u8; 8];
        rand::rng().fill_bytes(&mut trace_id);
        rand::rng().fill_bytes(&mut span_id);
        TraceContext { trace_id, span_id }
    }

    /// A child span in the same trace.
    pub fn child(&self) -> Self {
        let mut span_id = [0u8; 8];
        rand::rng().fill_bytes(&mut span_id);
        TraceContext {
            trace_id: self.trace_id,
            span_id,
        }
    }

    /// Parses `00-<32 hex>-<16 hex>-<2 hex>`.
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace, span, _flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00" {
            return None;
        }
        let mut trace_id = [0u8; 16];
        let mut span_id = [0u8; 8];
        hex::decode_to_slice(trace, &mut trace_id).ok()?;
        hex::decode_to_slice(span, &mut span_id).ok()?;
        (trace_id != [0; 16] && span_id != [0; 8]).then_some(TraceContext { trace_id, span_id })
    }

    /// The `traceparent` header value.
    pub fn to_header(&self) -> String {
        format!(
            "00-{}-{}-01",
            hex::encode(self.trace_id),
            hex::encode(self.span_id)
        )
    }

    /// The trace id in hex, as logged.
    pub fn trace_id_hex(&self) -> String {
        hex::encode(self.trace_id)
    }

    /// The trace context of a request that passed the trace layer.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<TraceContext> {
        request.extensions().get::<TraceContext>().copied()
    }
}

/// Tower layer: one span per request with method, trace id and tenant, and a
/// log line with the outcome.
#[derive(Clone, Debug, Default)]
pub struct TraceLayer;

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        TraceService { inner }
    }
}

/// The service [`TraceLayer`] produces.
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
}

impl<S, B, R> Service<http::Request<B>> for TraceService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let parent = req
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(TraceContext::parse);
        let ctx = parent
            .map(|p| p.child())
            .unwrap_or_else(TraceContext::new_root);
        req.extensions_mut().insert(ctx);
        let method = req.uri().path().to_owned();
        let quiet = crate::auth::is_public(&method);
        let span = tracing::info_span!(
            "rpc",
            method = %method,
            trace_id = %ctx.trace_id_hex(),
            tenant = tracing::field::Empty,
        );
        let started = Instant::now();
        Box::pin(
            async move {
                let result = inner.call(req).await;
                let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
                match &result {
                    Ok(resp) => {
                        // Errors travel as trailers-only responses, so a
                        // grpc-status header means the call failed.
                        let status = resp
                            .headers()
                            .get("grpc-status")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("0")
                            .to_owned();
                        if status != "0" {
                            tracing::info!(grpc_status = %status, elapsed_ms, "rpc failed");
                        } else if !quiet {
                            tracing::debug!(elapsed_ms, "rpc served");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, elapsed_ms, "rpc transport error"),
                }
                result
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips() {
        let root = TraceContext::new_root();
        let parsed = TraceContext::parse(&root.to_header()).unwrap();
        assert_eq!(parsed, root);
        assert_eq!(root.child().trace_id, root.trace_id);
        assert_ne!(root.child().span_id, root.span_id);
        assert!(TraceContext::parse("01-00-00-00").is_none());
        assert!(TraceContext::parse("garbage").is_none());
    }
}
