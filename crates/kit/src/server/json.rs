//! JSON over HTTP on the gRPC port, derived from the contracts: every unary
//! RPC also answers `POST /<package>.<Service>/<Method>` with an
//! `application/json` body in the proto3 JSON mapping, which is the Connect
//! protocol's unary JSON, so Connect clients and plain `curl` both work,
//! over HTTP/1.1 or HTTP/2.
//!
//! A JSON call is transcoded in-process into the gRPC call it stands for and
//! handed to the same stack (tracing, metrics, deadline, shedding, the byte
//! budget, authentication, the handler), so the two cannot drift apart.
//! Errors come back as Connect error JSON with the gRPC code's name, its
//! message and, for invalid input, the field violations. Streaming RPCs stay
//! gRPC-only and say so.
//!
//! `GET /openapi.json` serves the OpenAPI 3.1 document of the same calls
//! (see [`openapi`]).

mod csv;
pub mod openapi;

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock},
    task::{Context, Poll},
};

use base64::Engine as _;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor, SerializeOptions,
};
use tonic::{Code, body::Body};
use tower::{Layer, Service};

use super::budget::InflightBytes;

/// Every service a Rapport port may serve: Rapport's contracts and gRPC
/// health (so `POST /grpc.health.v1.Health/Check` works for HTTP probes).
pub fn pool() -> &'static DescriptorPool {
    static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
        let mut pool = DescriptorPool::new();
        for set in [
            rapport_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ] {
            pool.decode_file_descriptor_set(set)
                .expect("the compiled-in descriptor sets decode");
        }
        pool
    });
    &POOL
}

/// The path a method is served at: `/rapport.v1.ScoringService/GetScore`.
pub fn path_of(m: &MethodDescriptor) -> String {
    format!("/{}/{}", m.parent_service().full_name(), m.name())
}

/// Whether a method is unary (served as JSON too).
pub fn is_unary(m: &MethodDescriptor) -> bool {
    !m.is_client_streaming() && !m.is_server_streaming()
}

/// Adds JSON over HTTP in front of a gRPC service stack.
#[derive(Clone)]
pub struct JsonLayer {
    shared: Arc<Shared>,
}

struct Shared {
    methods: HashMap<String, MethodDescriptor>,
    max_body: usize,
    budget: InflightBytes,
    openapi: Bytes,
    idle: std::time::Duration,
}

/// What parsing a JSON body may take, per byte of it, at most: a list of
/// small numbers becomes a dynamic value of 16 to 32 bytes per 2 bytes of
/// JSON. Charged against the byte budget before parsing.
pub const JSON_EXPANSION: usize = 16;

/// The largest JSON body read without a `Content-Length` (chunked), whose
/// size is only known once read.
const CHUNKED_LIMIT: usize = 1 << 20;

impl JsonLayer {
    /// Requests whose JSON body exceeds `max_body` bytes are refused; each
    /// is charged [`JSON_EXPANSION`] times its size against `budget` (the
    /// server's byte budget) while it is parsed and called.
    pub fn new(max_body: usize, budget: InflightBytes) -> Self {
        let pool = pool();
        let methods = pool
            .services()
            .flat_map(|s| s.methods().collect::<Vec<_>>())
            .map(|m| (path_of(&m), m))
            .collect();
        let openapi = serde_json::to_vec_pretty(&openapi::document(pool))
            .map(Bytes::from)
            .unwrap_or_default();
        JsonLayer {
            shared: Arc::new(Shared {
                methods,
                max_body,
                budget,
                openapi,
                idle: std::time::Duration::from_secs(60),
            }),
        }
    }

    /// Ends a CSV import whose body sends nothing for `idle` (the server's
    /// stream idle timeout).
    pub fn with_idle_timeout(mut self, idle: std::time::Duration) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.idle = idle;
        }
        self
    }
}

impl<S> Layer<S> for JsonLayer {
    type Service = Json<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Json {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The JSON front of a gRPC service stack.
#[derive(Clone)]
pub struct Json<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// What kind of request this is, from its method and content type.
fn is_json(req: &Request<Body>) -> bool {
    req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let ct = ct.trim_start().to_ascii_lowercase();
                ct == "application/json" || ct.starts_with("application/json;")
            })
}

impl<S> Service<Request<Body>> for Json<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if req.method() == Method::GET && req.uri().path() == "/openapi.json" {
            let body = self.shared.openapi.clone();
            return Box::pin(async move { Ok(json_response(StatusCode::OK, body)) });
        }
        let import = csv::is_import(&req);
        if !import && !is_json(&req) {
            return Box::pin(self.inner.call(req));
        }
        // The inner service was made ready for this call; a clone takes its
        // place for the next one.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        if import {
            return Box::pin(async move { Ok(csv::import(inner, &shared, req).await) });
        }
        Box::pin(async move { Ok(transcode(inner, &shared, req).await) })
    }
}

/// A Connect error: the HTTP status, the code's name, the message and any
/// details (already in Connect's JSON form).
#[derive(Debug)]
struct ConnectError {
    code: Code,
    message: String,
    details: Vec<serde_json::Value>,
    /// What a CSV import did before it stopped.
    report: Option<serde_json::Value>,
}

impl ConnectError {
    fn new(code: Code, message: impl Into<String>) -> Self {
        ConnectError {
            code,
            message: message.into(),
            details: Vec::new(),
            report: None,
        }
    }

    fn into_response(self) -> Response<Body> {
        let mut body = serde_json::json!({
            "code": code_name(self.code),
            "message": self.message,
        });
        if !self.details.is_empty() {
            body["details"] = serde_json::Value::Array(self.details);
        }
        if let Some(report) = self.report {
            body["report"] = report;
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        json_response(http_status(self.code), Bytes::from(bytes))
    }
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut res = Response::new(Body::new(Full::new(body)));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The Connect protocol's name of a code (`invalid_argument`).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "canceled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// The HTTP status the Connect protocol gives a code.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn transcode<S>(mut inner: S, shared: &Shared, req: Request<Body>) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    match call_json(&mut inner, shared, req).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn call_json<S>(
    inner: &mut S,
    shared: &Shared,
    req: Request<Body>,
) -> Result<Response<Body>, ConnectError>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let path = req.uri().path().to_owned();
    let method = shared
        .methods
        .get(&path)
        .ok_or_else(|| ConnectError::new(Code::Unimplemented, format!("no method at {path}")))?;
    if !is_unary(method) {
        return Err(ConnectError::new(
            Code::Unimplemented,
            format!("{path} streams; call it over gRPC (or grpc-web)"),
        ));
    }
    let (parts, body) = req.into_parts();
    // Charge the parse before reading when the size is announced; a chunked
    // body is read up to a smaller limit and charged once read.
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let limit = match announced {
        Some(n) if n > shared.max_body => {
            return Err(too_large(shared.max_body));
        }
        Some(_) => shared.max_body,
        None => shared.max_body.min(CHUNKED_LIMIT),
    };
    let charge = |n: usize| {
        shared
            .budget
            .reserve_for(
                n.saturating_mul(JSON_EXPANSION),
                &format!("a JSON body of {n} bytes (charged {JSON_EXPANSION}x to parse)"),
            )
            .map_err(|s| ConnectError::new(s.code(), s.message()))
    };
    let mut _permit = match announced {
        Some(n) => charge(n)?,
        None => None,
    };
    let body = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large(limit)
            } else {
                ConnectError::new(Code::Cancelled, format!("reading the request body: {e}"))
            }
        })?
        .to_bytes();
    if announced.is_none() {
        _permit = charge(body.len())?;
    }
    let input = parse(method.input(), &body)?;
    let headers = grpc_headers(&parts.headers)?;
    let data = grpc_call(inner, parts.uri, headers, parts.extensions, frame(&input)?).await?;
    let output = DynamicMessage::decode(method.output(), data)
        .map_err(|e| ConnectError::new(Code::Internal, format!("decoding the answer: {e}")))?;
    let mut out = serde_json::Serializer::new(Vec::new());
    output
        .serialize_with_options(&mut out, &SerializeOptions::new())
        .map_err(|e| ConnectError::new(Code::Internal, format!("writing JSON: {e}")))?;
    Ok(json_response(StatusCode::OK, Bytes::from(out.into_inner())))
}

/// `message` in a gRPC frame: uncompressed, its length, its bytes.
fn frame(message: &impl prost::Message) -> Result<Bytes, ConnectError> {
    let len = message.encoded_len();
    let mut frame = BytesMut::with_capacity(5 + len);
    frame.put_u8(0);
    frame.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    message
        .encode(&mut frame)
        .map_err(|e| ConnectError::new(Code::Internal, format!("encoding the request: {e}")))?;
    Ok(frame.freeze())
}

/// Calls the method at `uri` in-process through `inner` with one framed
/// message: the answer's message, or the error its status stands for.
async fn grpc_call<S>(
    inner: &mut S,
    uri: http::Uri,
    headers: HeaderMap,
    extensions: http::Extensions,
    frame: Bytes,
) -> Result<Bytes, ConnectError>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let mut grpc = Request::new(Body::new(Full::new(frame)));
    *grpc.method_mut() = Method::POST;
    // gRPC is HTTP/2; the layers below (grpc-web among them) go by it.
    *grpc.version_mut() = http::Version::HTTP_2;
    *grpc.uri_mut() = uri;
    *grpc.headers_mut() = headers;
    grpc.extensions_mut().extend(extensions);

    let unavailable =
        || ConnectError::new(Code::Unavailable, "the service could not take the call");
    std::future::poll_fn(|cx| inner.poll_ready(cx))
        .await
        .map_err(|_| unavailable())?;
    let res = inner.call(grpc).await.map_err(|_| unavailable())?;
    let (head, body) = res.into_parts();
    if let Some(e) = status_of(&head.headers) {
        return Err(e);
    }
    let collected = body
        .collect()
        .await
        .map_err(|e| ConnectError::new(Code::Internal, format!("reading the answer: {e}")))?;
    let trailers = collected.trailers().cloned().unwrap_or_default();
    if let Some(e) = status_of(&trailers) {
        return Err(e);
    }
    let mut data = collected.to_bytes();
    if data.len() < 5 || data[0] != 0 {
        return Err(ConnectError::new(
            Code::Internal,
            "the service answered without a message",
        ));
    }
    data.advance(1);
    let len = data.get_u32() as usize;
    Ok(data.slice(..len.min(data.len())))
}

fn too_large(limit: usize) -> ConnectError {
    ConnectError::new(
        Code::ResourceExhausted,
        format!(
            "request body exceeds {limit} bytes (without Content-Length, 1 MiB): \
             send smaller batches"
        ),
    )
}

/// The request message from its JSON; an empty body is the empty message.
fn parse(desc: MessageDescriptor, body: &[u8]) -> Result<DynamicMessage, ConnectError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DynamicMessage::new(desc));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let msg = DynamicMessage::deserialize(desc.clone(), &mut de)
        .and_then(|m| de.end().map(|()| m))
        .map_err(|e| {
            ConnectError::new(
                Code::InvalidArgument,
                format!("the body is not a {} in JSON: {e}", desc.full_name()),
            )
        })?;
    Ok(msg)
}

/// The gRPC call's headers: the caller's, less those of the HTTP/JSON
/// exchange, with Connect's timeout as gRPC's.
fn grpc_headers(from: &HeaderMap) -> Result<HeaderMap, ConnectError> {
    let mut headers = HeaderMap::with_capacity(from.len() + 2);
    for (name, value) in from {
        let n = name.as_str();
        if n == "content-type"
            || n == "content-length"
            || n == "accept-encoding"
            || n == "content-encoding"
            || n == "connection"
            || n == "transfer-encoding"
            || n == "host"
            || n.starts_with("connect-")
        {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    if let Some(ms) = from.get("connect-timeout-ms") {
        let ms: u64 = ms
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|ms| *ms > 0 && *ms < 100_000_000)
            .ok_or_else(|| {
                ConnectError::new(
                    Code::InvalidArgument,
                    "connect-timeout-ms must be a positive number of milliseconds",
                )
            })?;
        if let Ok(v) = HeaderValue::from_str(&format!("{ms}m")) {
            headers.insert("grpc-timeout", v);
        }
    }
    Ok(headers)
}

/// The error a gRPC status in `headers` (or trailers) stands for; `None`
/// for OK or no status.
fn status_of(headers: &HeaderMap) -> Option<ConnectError> {
    let status = tonic::Status::from_header_map(headers)?;
    if status.code() == Code::Ok {
        return None;
    }
    let mut e = ConnectError::new(status.code(), status.message());
    if !status.details().is_empty()
        && let Ok(details) = tonic_types::pb::Status::decode(status.details())
    {
        e.details = details.details.iter().map(detail).collect();
    }
    Some(e)
}

/// A status detail in Connect's form: its type (without the
/// `type.googleapis.com/` prefix), its bytes, and, for the types Rapport
/// sends, a readable `debug` copy.
fn detail(any: &prost_types::Any) -> serde_json::Value {
    let ty = any
        .type_url
        .rsplit_once('/')
        .map_or(any.type_url.as_str(), |(_, t)| t);
    let value = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&any.value);
    let mut out = serde_json::json!({ "type": ty, "value": value });
    if ty == "google.rpc.BadRequest"
        && let Ok(bad) = tonic_types::pb::BadRequest::decode(any.value.as_slice())
    {
        let violations: Vec<serde_json::Value> = bad
            .field_violations
            .iter()
            .map(|v| serde_json::json!({ "field": v.field, "description": v.description }))
            .collect();
        out["debug"] = serde_json::json!({ "fieldViolations": violations });
    }
    out
}

#[cfg(test)]
mod tests;
