//! `rapport_rpc_duration_seconds`: how long each call took, by service,
//! method and gRPC status code. Unary and client-streaming calls are
//! recorded when the response headers are out (the handler is done then);
//! calls that stream responses (health's Watch, reflection) when their
//! trailers pass, or as CANCELLED when the client goes away first.
//!
//! Per call this costs a clock read, a table lookup by path and one
//! read-locked map lookup in the SDK: the labels are `&'static str`s, so
//! nothing is allocated beyond the boxed future every middleware has.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::LazyLock,
    task::{Context, Poll},
    time::Instant,
};

use http_body::Frame;
use opentelemetry::KeyValue;
use prost::Message;
use tonic::body::Body;

use super::Histogram;
use crate::server::middleware::{Answer, GrpcInner, Middleware};

/// A gRPC method as labelled.
#[derive(Debug, Clone, Copy)]
struct Method {
    service: &'static str,
    method: &'static str,
    /// Whether responses stream, so the status comes in the trailers.
    streams: bool,
}

/// Paths not served here (mistyped or probing) share one label, so they
/// cannot grow the series without bound.
const UNKNOWN: Method = Method {
    service: "unknown",
    method: "unknown",
    streams: false,
};

/// Every method of Rapport's, health's and reflection's services, by path.
static METHODS: LazyLock<HashMap<&'static str, Method>> = LazyLock::new(|| {
    let mut methods = HashMap::new();
    for set in [
        rapport_proto::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
    ] {
        let Ok(set) = prost_types::FileDescriptorSet::decode(set) else {
            continue;
        };
        for file in set.file {
            let package = file.package();
            for service in &file.service {
                // Built once per process; the labels live as long as it.
                let full: &'static str = if package.is_empty() {
                    service.name().to_owned().leak()
                } else {
                    format!("{package}.{}", service.name()).leak()
                };
                for m in &service.method {
                    let method: &'static str = m.name().to_owned().leak();
                    let path: &'static str = format!("/{full}/{method}").leak();
                    let streams = m.server_streaming();
                    methods.insert(
                        path,
                        Method {
                            service: full,
                            method,
                            streams,
                        },
                    );
                }
            }
        }
    }
    for service in [
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        let path: &'static str = format!("/{service}/ServerReflectionInfo").leak();
        methods.insert(
            path,
            Method {
                service,
                method: "ServerReflectionInfo",
                streams: true,
            },
        );
    }
    methods
});

/// The name of gRPC status `code`, as in the gRPC spec.
fn code_name(code: &[u8]) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    std::str::from_utf8(code)
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .and_then(|i| NAMES.get(i).copied())
        .unwrap_or("UNKNOWN")
}

fn status_of(headers: &http::HeaderMap) -> Option<&'static str> {
    headers.get("grpc-status").map(|v| code_name(v.as_bytes()))
}

/// Middleware recording `rapport_rpc_duration_seconds`.
#[derive(Clone, Debug)]
pub struct RpcMetrics {
    duration: Histogram<f64>,
}

impl Default for RpcMetrics {
    fn default() -> Self {
        RpcMetrics::new()
    }
}

impl RpcMetrics {
    /// The middleware, recording into the process's meter provider.
    pub fn new() -> Self {
        LazyLock::force(&METHODS);
        RpcMetrics {
            duration: super::seconds_histogram(
                "rapport_rpc_duration_seconds",
                "Time from a gRPC request's arrival to its status, by service, method and status code.",
            ),
        }
    }
}

fn record(duration: &Histogram<f64>, method: Method, code: &'static str, started: Instant) {
    duration.record(
        started.elapsed().as_secs_f64(),
        &[
            KeyValue::new("service", method.service),
            KeyValue::new("method", method.method),
            KeyValue::new("code", code),
        ],
    );
}

impl<S: GrpcInner<B>, B: Send + 'static> Middleware<S, B> for RpcMetrics
where
    S::Error: Send,
{
    fn call(&self, mut inner: S, req: http::Request<B>) -> Answer<S, B> {
        let started = Instant::now();
        let method = METHODS.get(req.uri().path()).copied().unwrap_or(UNKNOWN);
        let duration = self.duration.clone();
        Box::pin(async move {
            let result = inner.call(req).await;
            match &result {
                // Errors are answered trailers-only: the status is a header.
                Ok(resp) => match status_of(resp.headers()) {
                    Some(code) => record(&duration, method, code, started),
                    None if method.streams => {
                        return result.map(|resp| {
                            resp.map(|body| {
                                Body::new(Watched {
                                    body,
                                    pending: Some((duration, method, started)),
                                })
                            })
                        });
                    }
                    None => record(&duration, method, "OK", started),
                },
                Err(_) => record(&duration, method, "UNKNOWN", started),
            }
            result
        })
    }
}

/// A streamed response body that records the call when its trailers pass
/// (or it ends or is dropped without them).
struct Watched {
    body: Body,
    pending: Option<(Histogram<f64>, Method, Instant)>,
}

impl Watched {
    fn finish(&mut self, code: &'static str) {
        if let Some((duration, method, started)) = self.pending.take() {
            record(&duration, method, code, started);
        }
    }
}

impl http_body::Body for Watched {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let code = status_of(trailers).unwrap_or("UNKNOWN");
                    self.finish(code);
                }
            }
            Poll::Ready(Some(Err(_))) => self.finish("INTERNAL"),
            Poll::Ready(None) => self.finish("UNKNOWN"),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.finish("CANCELLED");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rapport_method_has_its_labels() {
        let get = METHODS
            .get("/rapport.v1.ScoringService/GetScore")
            .expect("GetScore");
        assert_eq!(
            (get.service, get.method, get.streams),
            ("rapport.v1.ScoringService", "GetScore", false)
        );
        assert!(METHODS["/grpc.health.v1.Health/Watch"].streams);
        assert_eq!(code_name(b"0"), "OK");
        assert_eq!(code_name(b"16"), "UNAUTHENTICATED");
        assert_eq!(code_name(b"99"), "UNKNOWN");
    }
}
