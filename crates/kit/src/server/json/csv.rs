//! CSV over HTTP for ERPs that push files: `POST /v1/import/customers` and
//! `POST /v1/import/transactions` with a `text/csv` body in the columns of
//! `rapport import` (see [`crate::import`]).
//!
//! The body is parsed as it arrives; each batch of valid rows, once full,
//! becomes the in-process gRPC call `rapport import` makes (UpsertCustomers,
//! IngestTransactions), through the whole stack, so an import holds one
//! batch and one row whatever the file's size. The answer is the import's
//! report as JSON; a batch refused as a whole ends the import with the
//! Connect error JSON and the report so far (`lastLineStored` says where to
//! resume; re-sending rows is safe, both imports are idempotent).

use std::time::Duration;

use chrono::Utc;
use http::{Uri, request::Parts};
use http_body_util::BodyExt as _;
use prost::Message as _;

use super::{ConnectError, Shared, frame, grpc_call, grpc_headers, json_response};
use crate::import::{
    Batch, Customers, Import, ImportError, Kind, MAX_BATCH, RowOptions, Transactions,
};
use http::{HeaderMap, Request, Response, StatusCode, header};
use tonic::{Code, body::Body};
use tower::Service;

const PREFIX: &str = "/v1/import/";

/// Problems listed in a report at most; the counts cover them all.
pub const LISTED: usize = 1000;

/// What an import may hold of the byte budget, per byte of its batch: the
/// rows decoded are larger than their encoding.
const BATCH_EXPANSION: usize = 4;

/// Whether the request is a CSV import (any content type: a wrong one is
/// told so).
pub(super) fn is_import(req: &Request<Body>) -> bool {
    req.method() == http::Method::POST && req.uri().path().starts_with(PREFIX)
}

/// Runs the import the request asks for and answers with its report.
pub(super) async fn import<S>(inner: S, shared: &Shared, req: Request<Body>) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let answer = match req.uri().path().strip_prefix(PREFIX) {
        Some("customers") => run(inner, shared, req, Customers).await,
        Some("transactions") => run(inner, shared, req, Transactions).await,
        _ => Err(ConnectError::new(
            Code::NotFound,
            format!(
                "no import at {}: POST text/csv to {PREFIX}customers or {PREFIX}transactions",
                req.uri().path()
            ),
        )),
    };
    answer.unwrap_or_else(ConnectError::into_response)
}

/// The query: `source` and `batch_size`.
#[derive(Debug)]
struct Params {
    source: String,
    batch_size: usize,
}

fn params(query: Option<&str>) -> Result<Params, ConnectError> {
    let mut p = Params {
        source: "erp".to_owned(),
        batch_size: 1000,
    };
    let bad = |m: String| ConnectError::new(Code::InvalidArgument, m);
    for pair in query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value =
            decode(value).ok_or_else(|| bad(format!("{name}: not percent-encoded UTF-8")))?;
        match name {
            "source" => {
                if value.trim().is_empty() || value.len() > 200 {
                    return Err(bad(format!(
                        "source must be a source system name of 1 to 200 bytes, not {value:?}"
                    )));
                }
                p.source = value.trim().to_owned();
            }
            "batch_size" => {
                p.batch_size = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_BATCH).contains(n))
                    .ok_or_else(|| {
                        bad(format!(
                            "batch_size must be a whole number within 1..={MAX_BATCH}, not {value:?}"
                        ))
                    })?;
            }
            other => {
                return Err(bad(format!(
                    "unknown query parameter {other:?}: an import takes source and batch_size"
                )));
            }
        }
    }
    Ok(p)
}

/// Percent-decoding of a query value (`+` is a space).
fn decode(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.trim_start().to_ascii_lowercase();
            ct == "text/csv" || ct.starts_with("text/csv;")
        })
}

async fn run<S, K: Kind>(
    mut inner: S,
    shared: &Shared,
    req: Request<Body>,
    kind: fn(RowOptions) -> K,
) -> Result<Response<Body>, ConnectError>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let (parts, mut body) = req.into_parts();
    if !is_csv(&parts.headers) {
        return Err(ConnectError::new(
            Code::InvalidArgument,
            format!(
                "send the file as Content-Type: text/csv (the columns of `rapport import {}`)",
                K::WHAT
            ),
        ));
    }
    let p = params(parts.uri.query())?;
    let headers = grpc_headers(&parts.headers)?;
    // A batch closes early when its encoding nears a sixteenth of the
    // largest message (at least 64 KiB, or half a small one); a row may be
    // as long as the body of a chunked JSON call.
    let max_batch = (shared.max_body / 16).max((1 << 16).min(shared.max_body / 2));
    let max_row = super::CHUNKED_LIMIT.min(shared.max_body);
    let _held = shared
        .budget
        .reserve_for(
            max_batch * BATCH_EXPANSION + max_row,
            &format!("a CSV import ({} bytes a batch)", max_batch),
        )
        .map_err(|s| ConnectError::new(s.code(), s.message()))?;
    let rows = RowOptions {
        source: p.source,
        now: Utc::now(),
    };
    let mut import = Import::new(kind(rows), p.batch_size, max_batch, max_row, LISTED);
    let mut call = Call {
        inner: &mut inner,
        parts: &parts,
        headers,
    };
    let outcome = read(&mut import, &mut body, shared.idle, &mut call).await;
    match outcome {
        Ok(()) => Ok(json_response(
            StatusCode::OK,
            serde_json::to_vec(&import.summary)
                .unwrap_or_default()
                .into(),
        )),
        Err(mut e) => {
            e.report = serde_json::to_value(&import.summary).ok();
            Err(e)
        }
    }
}

/// What a batch is sent with: the caller's headers and extensions.
struct Call<'a, S> {
    inner: &'a mut S,
    parts: &'a Parts,
    headers: HeaderMap,
}

impl<S> Call<'_, S>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    async fn send<K: Kind>(
        &mut self,
        import: &mut Import<K>,
        batch: Batch<K::Item>,
    ) -> Result<(), ConnectError> {
        let message = K::request(batch.items);
        let answer = grpc_call(
            self.inner,
            Uri::from_static(K::PATH),
            self.headers.clone(),
            self.parts.extensions.clone(),
            frame(&message)?,
        )
        .await
        .map_err(|mut e| {
            if e.code == Code::Unimplemented {
                e.message = format!(
                    "this port does not serve {}, which takes {}: post them to its port \
                     (`rapport up` serves every service on one)",
                    K::SERVICE,
                    K::WHAT
                );
            }
            e
        })?;
        let response = K::Response::decode(answer)
            .map_err(|e| ConnectError::new(Code::Internal, format!("decoding the answer: {e}")))?;
        import.summary.absorb(&K::outcome(response), &batch.lines);
        Ok(())
    }
}

/// Reads the body frame by frame into `import`, sending each full batch.
async fn read<S, K: Kind>(
    import: &mut Import<K>,
    body: &mut Body,
    idle: Duration,
    call: &mut Call<'_, S>,
) -> Result<(), ConnectError>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let csv = |e: ImportError| ConnectError::new(Code::InvalidArgument, e.to_string());
    loop {
        let frame = tokio::time::timeout(idle, body.frame())
            .await
            .map_err(|_| {
                ConnectError::new(
                    Code::DeadlineExceeded,
                    format!("the body sent nothing for {} s", idle.as_secs()),
                )
            })?;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| {
            ConnectError::new(Code::Cancelled, format!("reading the request body: {e}"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let mut input = &data[..];
        while let Some(batch) = import.feed(&mut input).map_err(csv)? {
            call.send(import, batch).await?;
        }
    }
    while let Some(batch) = import.finish().map_err(csv)? {
        call.send(import, batch).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_checked_naming_the_parameter() {
        let p = params(Some("source=shop%20one&batch_size=10")).unwrap();
        assert_eq!((p.source.as_str(), p.batch_size), ("shop one", 10));
        let p = params(None).unwrap();
        assert_eq!((p.source.as_str(), p.batch_size), ("erp", 1000));
        for (query, names) in [
            ("batch_size=0", "batch_size"),
            ("batch_size=lots", "batch_size"),
            ("batch_size=5001", "batch_size"),
            ("source=", "source"),
            ("sauce=erp", "sauce"),
        ] {
            let e = params(Some(query)).expect_err(query);
            assert_eq!(e.code, Code::InvalidArgument);
            assert!(e.message.contains(names), "{query}: {}", e.message);
        }
    }
}
