//! A real HTTP(S) server on 127.0.0.1 standing in for webhook receivers and
//! SMS providers: it records what it is sent and answers as told.

use std::{
    collections::HashMap,
    convert::Infallible,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::task::JoinHandle;

use super::tls;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Request headers.
    pub headers: hyper::HeaderMap,
    /// Request body.
    pub body: Bytes,
}

impl Received {
    /// A header as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
}

#[derive(Default)]
struct State {
    calls: Mutex<Vec<Received>>,
    /// The first successful answer per idempotency key: repeats get it again.
    answered: Mutex<HashMap<String, usize>>,
    /// Messages accepted, one per idempotency key.
    accepted: Mutex<Vec<Received>>,
    fail_first: AtomicUsize,
    fail_first_per_key: AtomicBool,
    /// Idempotency keys seen, for `fail_first_per_key`.
    seen: Mutex<std::collections::HashSet<String>>,
    delay_ms: AtomicU16,
    always: AtomicU16,
    no_id_header: AtomicBool,
    /// Raw JSON text of the body's id, instead of `"body-<n>"`.
    body_id: Mutex<Option<String>>,
    /// The body of failures, instead of `{"error":"status <status>"}`.
    error_body: Mutex<Option<String>>,
}

/// A real HTTP/1 server on 127.0.0.1 that records requests. It answers 200
/// with `x-message-id: msg-<n>` and a JSON body `{"id": "body-<n>"}`, `n`
/// counting calls from 0, unless told otherwise.
pub struct Receiver {
    addr: SocketAddr,
    scheme: &'static str,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Starts listening on a free port.
    pub async fn start() -> Receiver {
        Receiver::listen(None).await
    }

    /// Starts listening on a free port for HTTPS with the certificate and
    /// key (PEM files) of [`tls::self_signed`]. A handshake the client
    /// aborts (an untrusted certificate) records nothing.
    pub async fn start_https(cert: &PathBuf, key: &PathBuf) -> Receiver {
        Receiver::listen(Some(tls::acceptor(cert, key))).await
    }

    async fn listen(tls: Option<tokio_rustls::TlsAcceptor>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver addr");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let state = Arc::new(State::default());
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    let http = http1::Builder::new();
                    let _ = match tls {
                        None => http.serve_connection(TokioIo::new(stream), service).await,
                        Some(tls) => match tls.accept(stream).await {
                            Ok(stream) => {
                                http.serve_connection(TokioIo::new(stream), service).await
                            }
                            Err(_) => return,
                        },
                    };
                });
            }
        });
        Receiver {
            addr,
            scheme,
            state,
            task,
        }
    }

    /// The URL of `path_and_query` on this receiver.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path_and_query)
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answers 503 to the first `n` calls.
    pub fn fail_first(&self, n: usize) {
        self.state.fail_first.store(n, Ordering::SeqCst);
    }

    /// Answers `status` to every call.
    pub fn always(&self, status: u16) {
        self.state.always.store(status, Ordering::SeqCst);
    }

    /// Answers 503 to the first call with each idempotency key and 200 to
    /// the repeat: exactly half the calls of a batch fail, whatever the
    /// order they arrive in.
    pub fn fail_first_per_key(&self) {
        self.state.fail_first_per_key.store(true, Ordering::SeqCst);
    }

    /// Waits `ms` after taking each call before answering it.
    pub fn delay(&self, ms: u16) {
        self.state.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Messages accepted: one per idempotency key, however often repeated.
    pub fn accepted(&self) -> Vec<Received> {
        self.state.accepted.lock().unwrap().clone()
    }

    /// Leaves `x-message-id` out, so only the body carries an id.
    pub fn without_id_header(&self) {
        self.state.no_id_header.store(true, Ordering::SeqCst);
    }

    /// Answers with `{"id": <json>}`, `json` as given (e.g. a string holding
    /// characters a store cannot keep), instead of `"body-<n>"`.
    pub fn body_id(&self, json: &str) {
        *self.state.body_id.lock().unwrap() = Some(json.to_owned());
    }

    /// Answers failures with `body` (e.g. one holding a token and an email
    /// address) instead of `{"error":"status <status>"}`.
    pub fn error_body(&self, body: &str) {
        *self.state.error_body.lock().unwrap() = Some(body.to_owned());
    }

    /// Every request so far, in arrival order.
    pub fn calls(&self) -> Vec<Received> {
        self.state.calls.lock().unwrap().clone()
    }

    /// The one request so far; fails unless exactly one came.
    pub fn only_call(&self) -> Received {
        let calls = self.calls();
        assert_eq!(calls.len(), 1);
        calls[0].clone()
    }

    /// Requests per `idempotency-key`.
    pub fn count_by_key(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for call in self.calls() {
            *counts
                .entry(call.header("idempotency-key").to_owned())
                .or_insert(0) += 1;
        }
        counts
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let received = Received {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    };
    let key = received.header("idempotency-key").to_owned();
    let n = {
        let mut calls = state.calls.lock().unwrap();
        calls.push(received.clone());
        calls.len() - 1
    };
    let status = match state.always.load(Ordering::SeqCst) {
        0 if n < state.fail_first.load(Ordering::SeqCst) => 503,
        0 if state.fail_first_per_key.load(Ordering::SeqCst)
            && state.seen.lock().unwrap().insert(key.clone()) =>
        {
            503
        }
        0 => 200,
        s => s,
    };
    // A key already answered with success gets the same answer again and is
    // not a new message, as providers honouring idempotency keys do.
    let n = if status == 200 && !key.is_empty() {
        let mut answered = state.answered.lock().unwrap();
        match answered.get(&key) {
            Some(first) => *first,
            None => {
                answered.insert(key, n);
                state.accepted.lock().unwrap().push(received);
                n
            }
        }
    } else {
        if status == 200 {
            state.accepted.lock().unwrap().push(received);
        }
        n
    };
    // The message is taken before the slow answer, like a provider that
    // accepted it but whose answer never reached a sender killed meanwhile.
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(u64::from(delay))).await;
    }
    let mut resp = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if status == 200 && !state.no_id_header.load(Ordering::SeqCst) {
        resp = resp.header("x-message-id", format!("msg-{n}"));
    }
    let body = if status == 200 {
        match state.body_id.lock().unwrap().clone() {
            Some(id) => format!("{{\"id\":{id}}}"),
            None => format!("{{\"id\":\"body-{n}\"}}"),
        }
    } else {
        match state.error_body.lock().unwrap().clone() {
            Some(body) => body,
            None => format!("{{\"error\":\"status {status}\"}}"),
        }
    };
    Ok(resp.body(Full::new(Bytes::from(body))).expect("response"))
}
