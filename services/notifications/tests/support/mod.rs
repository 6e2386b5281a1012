//! Shared test parts: a server with profiles, scoring and notifications,
//! typed clients, workers, and a real local HTTP(S) receiver that records
//! what it is sent.
#![allow(dead_code)]

pub mod tls;

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
use rapport_kit::{
    Db,
    config::Config,
    internal::{BearerAuth, lazy_channel},
    testing::{Backend, TestServer},
};
use rapport_notifications::{Peers, SCHEMA, add_to, spawn_worker};
use rapport_proto::v1::{
    Channel, Consent, CreateCustomerRequest, Customer, GetNotificationRequest, Notification,
    NotificationStatus, SendNotificationRequest, SetConsentRequest,
    notifications_service_client::NotificationsServiceClient,
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};
use tokio::task::JoinHandle;
use tonic::{service::interceptor::InterceptedService, transport};
use tonic_types::StatusExt;

/// A client authenticated as one tenant.
pub type Client = NotificationsServiceClient<InterceptedService<transport::Channel, BearerAuth>>;

/// A profiles client authenticated as one tenant.
pub type Profiles = ProfilesServiceClient<InterceptedService<transport::Channel, BearerAuth>>;

/// Clients of profiles and scoring inside the server at `url`.
pub fn peers(url: &str, app: &rapport_kit::app::App) -> Peers {
    let timeout = Duration::from_secs(30);
    Peers::new(
        ProfilesServiceClient::new(lazy_channel(url, timeout).expect("channel")),
        ScoringServiceClient::new(lazy_channel(url, timeout).expect("channel")),
        app.internal.clone(),
    )
}

/// Starts one server with profiles, scoring and notifications on `backend`
/// (notifications calls the other two through its own port, as in the
/// all-in-one binary), after `tweak` has adjusted the test configuration.
pub async fn server(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let mut config = rapport_kit::testing::config(backend).await;
    tweak(&mut config);
    let cache = rapport_scoring::cache_from_config(&config)
        .await
        .expect("cache");
    TestServer::start(config, move |app, server, addr| {
        let url = format!("http://{addr}");
        rapport_profiles::add_to(server, app.db(rapport_profiles::SCHEMA)?);
        let own = lazy_channel(&url, Duration::from_secs(30))?;
        rapport_scoring::add_to(
            server,
            app,
            app.db(rapport_scoring::SCHEMA)?,
            cache,
            ProfilesServiceClient::new(own.clone()),
            NotificationsServiceClient::new(own),
        );
        add_to(
            server,
            app.db(SCHEMA)?,
            &app.config.notify,
            peers(&url, app),
        );
        Ok(())
    })
    .await
}

/// The API key of a new tenant named `name`, set up as tenants are before
/// they send webhooks: with a signing secret.
pub async fn tenant_key(ts: &TestServer, name: &str) -> String {
    let key = ts.tenant(name, "EUR").await.1;
    client(ts, &key)
        .rotate_webhook_secret(rapport_proto::v1::RotateWebhookSecretRequest {})
        .await
        .expect("webhook signing secret");
    key
}

/// A notifications client for `key`.
pub fn client(ts: &TestServer, key: &str) -> Client {
    NotificationsServiceClient::with_interceptor(ts.channel(), BearerAuth::new(key).expect("key"))
}

/// A profiles client for `key`.
pub fn profiles(ts: &TestServer, key: &str) -> Profiles {
    ProfilesServiceClient::with_interceptor(ts.channel(), BearerAuth::new(key).expect("key"))
}

/// A client for a new tenant named `name`.
pub async fn tenant(ts: &TestServer, name: &str) -> Client {
    client(ts, &tenant_key(ts, name).await)
}

/// Creates a customer with `email`, `phone` and `attributes`, consenting to
/// `channels`; returns its id.
pub async fn customer(
    profiles: &mut Profiles,
    name: &str,
    email: &str,
    phone: &str,
    attributes: &[(&str, &str)],
    channels: &[Channel],
) -> String {
    let customer = Customer {
        display_name: name.to_owned(),
        email: email.to_owned(),
        phone: phone.to_owned(),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let id = profiles
        .create_customer(CreateCustomerRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            customer: Some(customer),
        })
        .await
        .expect("create customer")
        .into_inner()
        .customer
        .expect("customer")
        .id;
    for channel in channels {
        consent(profiles, &id, *channel, true).await;
    }
    id
}

/// Grants or revokes consent on `channel`.
pub async fn consent(
    profiles: &mut Profiles,
    id: &str,
    channel: Channel,
    granted: bool,
) -> Consent {
    profiles
        .set_consent(SetConsentRequest {
            customer_id: id.to_owned(),
            channel: channel as i32,
            granted,
            at: None,
        })
        .await
        .expect("set consent")
        .into_inner()
        .consent
        .expect("consent")
}

/// A delivery worker with its own pool, stopped by the server's shutdown.
pub fn worker(ts: &TestServer) -> JoinHandle<()> {
    let db = Db::connect_lazy(&ts.config, SCHEMA).expect("worker pool");
    spawn_worker(
        db,
        ts.config.notify.clone(),
        peers(&ts.url(), &ts.app),
        ts.app.shutdown.clone(),
    )
    .expect("delivery settings")
}

/// Stops the server and its workers, checking every worker ends.
pub async fn stop(ts: TestServer, workers: Vec<JoinHandle<()>>) {
    ts.stop().await;
    for w in workers {
        tokio::time::timeout(Duration::from_secs(30), w)
            .await
            .expect("worker stops after shutdown")
            .expect("worker did not panic");
    }
}

/// A webhook send request.
pub fn webhook(dedupe_key: &str, customer_id: &str, url: &str) -> SendNotificationRequest {
    SendNotificationRequest {
        dedupe_key: dedupe_key.to_owned(),
        customer_id: customer_id.to_owned(),
        channel: Channel::Webhook as i32,
        destination: url.to_owned(),
        subject: "Your tier changed".to_owned(),
        body: "{\"tier\":\"gold\"}".to_owned(),
        ..Default::default()
    }
}

/// Notification statuses as the wire carries them.
pub const PENDING: i32 = NotificationStatus::Pending as i32;
/// See [`PENDING`].
pub const SCHEDULED: i32 = NotificationStatus::Scheduled as i32;
/// See [`PENDING`].
pub const DELIVERED: i32 = NotificationStatus::Delivered as i32;
/// See [`PENDING`].
pub const DEAD_LETTER: i32 = NotificationStatus::DeadLetter as i32;
/// See [`PENDING`].
pub const SUPPRESSED: i32 = NotificationStatus::Suppressed as i32;

/// Sends `req` and returns the stored notification.
pub async fn stored(client: &mut Client, req: SendNotificationRequest) -> Notification {
    let resp = client
        .send_notification(req)
        .await
        .expect("send")
        .into_inner();
    resp.notification.expect("notification")
}

/// Sends `req` and returns the stored notification's id.
pub async fn send(client: &mut Client, req: SendNotificationRequest) -> String {
    stored(client, req).await.id
}

/// Sends `req` and waits until it settled: its id and the settled notification.
pub async fn send_settled(
    client: &mut Client,
    req: SendNotificationRequest,
) -> (String, Notification) {
    let id = send(client, req).await;
    let n = settled(client, &id).await;
    (id, n)
}

/// The notification as stored now, with its attempts.
pub async fn get(client: &mut Client, id: &str) -> Notification {
    client
        .get_notification(GetNotificationRequest {
            notification_id: id.to_owned(),
        })
        .await
        .expect("get")
        .into_inner()
        .notification
        .expect("notification")
}

/// Waits (without asserting on time) until the notification is neither
/// pending nor scheduled and returns it with its attempts.
pub async fn settled(client: &mut Client, id: &str) -> Notification {
    for _ in 0..1_200 {
        let n = get(client, id).await;
        if n.status != PENDING && n.status != SCHEDULED {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("notification {id} stayed pending");
}

/// The field violations of an INVALID_ARGUMENT status: (field, description).
pub fn violations(status: &tonic::Status) -> Vec<(String, String)> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .expect("bad request details")
        .field_violations
        .iter()
        .map(|v| (v.field.clone(), v.description.clone()))
        .collect()
}

/// The fields named by the violations of an INVALID_ARGUMENT status.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    violations(status).into_iter().map(|(f, _)| f).collect()
}

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
        format!("{{\"id\":\"body-{n}\"}}")
    } else {
        format!("{{\"error\":\"status {status}\"}}")
    };
    Ok(resp.body(Full::new(Bytes::from(body))).expect("response"))
}
