//! Helpers for the end-to-end tests: the suite in its production shape (one
//! server per service, talking over gRPC) and a real local HTTP receiver for
//! webhooks.
#![forbid(unsafe_code)]

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use rapport_kit::{config::Config, internal::lazy_channel, testing::TestServer};
use rapport_proto::v1::{
    notifications_service_client::NotificationsServiceClient,
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Request path.
    pub path: String,
    /// Header name/value pairs (lower-case names).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl Received {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A real HTTP server on 127.0.0.1 that records every request and answers 200.
pub struct WebhookReceiver {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Starts the receiver.
    pub async fn start() -> WebhookReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let log = log.clone();
                        async move {
                            let path = req.uri().path().to_owned();
                            let headers = req
                                .headers()
                                .iter()
                                .map(|(n, v)| {
                                    (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                                })
                                .collect();
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let n = {
                                let mut log = log.lock().unwrap();
                                log.push(Received {
                                    path,
                                    headers,
                                    body,
                                });
                                log.len()
                            };
                            Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .status(200)
                                    .header("x-message-id", format!("msg-{n}"))
                                    .body(Full::new(Bytes::from_static(b"{}")))
                                    .expect("response"),
                            )
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        WebhookReceiver {
            addr,
            received,
            task,
        }
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The four services as four servers on one database, as on Kubernetes.
pub struct SplitSuite {
    /// Profiles server.
    pub profiles: TestServer,
    /// Ingestion server (with its outbox relay).
    pub ingestion: TestServer,
    /// Scoring server.
    pub scoring: TestServer,
    /// Notifications server (with its delivery worker).
    pub notifications: TestServer,
}

impl SplitSuite {
    /// Starts every service on its own port with `config`.
    pub async fn start(config: Config) -> SplitSuite {
        let profiles = TestServer::start(config.clone(), |app, server, _| {
            rapport_profiles::add_to(server, app.db(rapport_profiles::SCHEMA)?);
            Ok(())
        })
        .await;
        let cache = rapport_scoring::cache_from_config(&config)
            .await
            .expect("cache");
        // Notifications calls scoring and scoring calls notifications: pick
        // scoring's port first so each can be given the other's URL.
        let mut scoring_config = config.clone();
        scoring_config.listen = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port for scoring");
        let (profiles_for_notify, scoring_for_notify) =
            (profiles.url(), format!("http://{}", scoring_config.listen));
        let notifications = TestServer::start(config.clone(), move |app, server, _| {
            let db = app.db(rapport_notifications::SCHEMA)?;
            let timeout = Duration::from_secs(30);
            let peers = rapport_notifications::Peers::new(
                ProfilesServiceClient::new(lazy_channel(&profiles_for_notify, timeout)?),
                ScoringServiceClient::new(lazy_channel(&scoring_for_notify, timeout)?),
                app.internal.clone(),
            );
            rapport_notifications::add_to(
                server,
                db.clone(),
                &app.config.section().expect("notify settings"),
                peers.clone(),
            );
            rapport_notifications::spawn_worker(
                db,
                app.config.section().expect("notify settings"),
                peers,
                app.shutdown.clone(),
            )?;
            Ok(())
        })
        .await;
        let profiles_for_scoring = profiles.url();
        let notifications_for_scoring = notifications.url();
        let scoring = TestServer::start(scoring_config, move |app, server, _| {
            let channel = lazy_channel(&profiles_for_scoring, Duration::from_secs(30))?;
            let to_notifications =
                lazy_channel(&notifications_for_scoring, Duration::from_secs(30))?;
            let handle = rapport_scoring::add_to(
                server,
                app,
                app.db(rapport_scoring::SCHEMA)?,
                cache,
                ProfilesServiceClient::new(channel),
                NotificationsServiceClient::new(to_notifications),
            );
            rapport_scoring::spawn_rules(
                &handle,
                rapport_scoring::RulesOptions::default(),
                app.shutdown.clone(),
            );
            rapport_scoring::spawn_refresh(
                &handle,
                rapport_scoring::RefreshOptions::default(),
                app.shutdown.clone(),
            );
            Ok(())
        })
        .await;
        let (profiles_url, scoring_url) = (profiles.url(), scoring.url());
        let ingestion = TestServer::start(config, move |app, server, _| {
            let db = app.db(rapport_ingestion::SCHEMA)?;
            let timeout = Duration::from_secs(30);
            let max = app.config.max_message_bytes;
            let profiles = ProfilesServiceClient::new(lazy_channel(&profiles_url, timeout)?)
                .max_encoding_message_size(max)
                .max_decoding_message_size(max);
            let scoring = ScoringServiceClient::new(lazy_channel(&scoring_url, timeout)?);
            rapport_ingestion::add_to(server, db.clone(), profiles, app.internal.clone(), max);
            rapport_ingestion::spawn_relay(
                db,
                scoring,
                app.internal.clone(),
                app.config.section().expect("relay settings"),
                app.shutdown.clone(),
            );
            Ok(())
        })
        .await;
        SplitSuite {
            profiles,
            ingestion,
            scoring,
            notifications,
        }
    }

    /// Clients of the four servers for `api_key`.
    pub fn clients(&self, api_key: &str) -> rapport::client::Clients {
        rapport::client::Clients::connect_each(
            &self.profiles.url(),
            &self.ingestion.url(),
            &self.scoring.url(),
            &self.notifications.url(),
            api_key,
        )
        .expect("clients")
    }

    /// Stops all four.
    pub async fn stop(self) {
        self.ingestion.stop().await;
        self.notifications.stop().await;
        self.scoring.stop().await;
        self.profiles.stop().await;
    }
}

/// The id of the customer an ERP import created for `external_id`.
pub async fn customer_id(clients: &mut rapport::client::Clients, external_id: &str) -> String {
    clients
        .profiles
        .lookup_customer(rapport_proto::v1::LookupCustomerRequest {
            identity: Some(rapport_proto::v1::ExternalIdentity {
                source: "erp".into(),
                external_id: external_id.into(),
            }),
        })
        .await
        .expect("lookup")
        .into_inner()
        .customer
        .expect("customer")
        .id
}
