//! Logging and trace context. Logs are structured (`tracing`), filtered by
//! `RUST_LOG`, pretty or JSON. Each request runs in a span carrying its W3C
//! trace id, which internal calls pass on in `traceparent`, so one id follows
//! a request through all four services.

use std::{sync::OnceLock, time::Instant};

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider,
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use rand::RngCore;
use tower::Service;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{
    EnvFilter, Layer as _, Registry, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::{
    config::LogFormat,
    server::middleware::{Answer, Middleware},
};

/// The OpenTelemetry tracer provider, when an OTLP endpoint is configured.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber. Later calls (tests) are no-ops.
pub fn init(format: LogFormat) {
    init_with(format, "info,sqlx=warn");
}

/// Like [`init`], with `default_filter` when `RUST_LOG` is unset.
pub fn init_with(format: LogFormat, default_filter: &str) {
    init_full(format, default_filter, None);
}

/// Installs logging and, when `otlp_endpoint` is given (`http://collector:4317`),
/// span and metric export over OTLP/gRPC with the service named after the
/// binary.
pub fn init_full(format: LogFormat, default_filter: &str, otlp_endpoint: Option<&str>) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let fmt: Box<dyn tracing_subscriber::Layer<Registry> + Send + Sync> = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().boxed(),
    };
    let mut otel_error = None;
    let otel = otlp_endpoint.and_then(|endpoint| match tracer_provider(endpoint) {
        Ok(provider) => {
            let tracer = provider.tracer("rapport");
            let _ = PROVIDER.set(provider);
            Some(tracing_opentelemetry::layer().with_tracer(tracer))
        }
        Err(e) => {
            otel_error = Some(e);
            None
        }
    });
    let installed = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .with(filter)
        .try_init()
        .is_ok();
    if let (true, Some(e)) = (installed, otel_error) {
        tracing::warn!(error = %e, "span export disabled: the OTLP exporter could not be built");
    }
    if let Err(e) = crate::metrics::init(otlp_endpoint) {
        tracing::warn!(error = %e, "metric export disabled: the OTLP exporter could not be built");
    }
}

fn tracer_provider(
    endpoint: &str,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build())
}

/// What exported spans and metrics are from: the service, named after the binary.
pub(crate) fn resource() -> opentelemetry_sdk::Resource {
    let service = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "rapport".to_owned());
    opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build()
}

/// True when spans are exported over OTLP.
pub fn exporting() -> bool {
    PROVIDER.get().is_some()
}

/// Sends the spans and metrics still buffered (at shutdown, before the
/// process exits).
pub fn flush() {
    crate::metrics::flush();
    if let Some(provider) = PROVIDER.get()
        && let Err(e) = provider.force_flush()
    {
        tracing::warn!(error = %e, "flushing spans failed");
    }
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

/// The context of a server span: a child of the caller's `traceparent` (or a
/// new trace). When spans are exported, the exported span carries the same
/// ids, so calls this span makes to other services nest under it.
fn server_context(span: &tracing::Span, parent: Option<TraceContext>) -> TraceContext {
    if exporting() {
        if let Some(p) = parent {
            let remote = SpanContext::new(
                TraceId::from_bytes(p.trace_id),
                SpanId::from_bytes(p.span_id),
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            );
            let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
        }
        let exported = span.context().span().span_context().clone();
        if exported.is_valid() {
            return TraceContext {
                trace_id: exported.trace_id().to_bytes(),
                span_id: exported.span_id().to_bytes(),
            };
        }
    }
    parent
        .map(|p| p.child())
        .unwrap_or_else(TraceContext::new_root)
}

/// Middleware: one span per request with method, trace id and tenant, and a
/// log line with the outcome.
#[derive(Clone, Debug, Default)]
pub struct Trace;

impl<S, B, R> Middleware<S, B> for Trace
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
    B: Send + 'static,
{
    fn call(&self, mut inner: S, mut req: http::Request<B>) -> Answer<S, B> {
        let parent = req
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(TraceContext::parse);
        let method = req.uri().path().to_owned();
        let quiet = crate::auth::is_public(&method);
        let span = tracing::info_span!(
            "rpc",
            method = %method,
            trace_id = tracing::field::Empty,
            tenant = tracing::field::Empty,
        );
        let ctx = server_context(&span, parent);
        span.record("trace_id", tracing::field::display(ctx.trace_id_hex()));
        req.extensions_mut().insert(ctx);
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
