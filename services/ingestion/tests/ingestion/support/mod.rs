//! Starts ingestion against the fakes and reads its database directly, to
//! check what was (and was not) written.

use std::{net::SocketAddr, time::Duration};

use prost::Message;
use rapport_ingestion::{OpportunitiesConfig, SCHEMA, add_to, spawn_opportunities, spawn_relay};
use rapport_kit::{
    Db,
    config::Config,
    db::Id,
    domain::chrono_to_timestamp,
    internal::BearerAuth,
    on_pool,
    peers::PeerClients,
    testing::{Backend, TestServer, config},
};
use rapport_proto::v1::{
    ChangeEvent, ExternalIdentity, IngestEventsRequest, IngestEventsResponse,
    IngestTransactionsRequest, IngestTransactionsResponse, Transaction, TransactionKind,
    ingestion_service_client::IngestionServiceClient, transaction::Amount,
};
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

pub use self::fakes::{FakeProfiles, FakeScoring};

mod fakes;

/// An authenticated ingestion client.
pub type Client = IngestionServiceClient<InterceptedService<Channel, BearerAuth>>;

/// Where ingestion's peers are.
struct Peers {
    /// Serve a fake Profiles (otherwise point at a closed port).
    profiles_up: bool,
    /// Run the relay against this scoring address.
    scoring: Option<SocketAddr>,
    /// Run the opportunities' refit job against this scoring address.
    refits: Option<SocketAddr>,
}

/// Ingestion on a fresh database, with a fake Profiles.
pub struct Harness {
    pub ts: TestServer,
    pub profiles: FakeProfiles,
    /// A separate pool on ingestion's database, for inspection.
    pub db: Db,
}

impl Harness {
    /// Ingestion with a live fake Profiles and no relay.
    pub async fn start(backend: Backend) -> Harness {
        Harness::start_with(
            backend,
            Peers {
                profiles_up: true,
                scoring: None,
                refits: None,
            },
            |_| (),
        )
        .await
    }

    /// Ingestion whose relay delivers to a scoring at `scoring`.
    pub async fn with_scoring(backend: Backend, scoring: SocketAddr) -> Harness {
        let peers = Peers {
            profiles_up: true,
            scoring: Some(scoring),
            refits: None,
        };
        Harness::start_with(backend, peers, |_| ()).await
    }

    /// Ingestion whose Profiles does not answer.
    pub async fn without_profiles(backend: Backend) -> Harness {
        let peers = Peers {
            profiles_up: false,
            scoring: None,
            refits: None,
        };
        Harness::start_with(backend, peers, |_| ()).await
    }

    /// Ingestion with a live fake Profiles, no relay and settings changed
    /// by `change`.
    pub async fn configured(backend: Backend, change: impl FnOnce(&mut Config)) -> Harness {
        let peers = Peers {
            profiles_up: true,
            scoring: None,
            refits: None,
        };
        Harness::start_with(backend, peers, change).await
    }

    /// Ingestion with the opportunities' refit job (polling every 20 ms,
    /// probabilities from 5 closed opportunities) against a scoring at `scoring`.
    pub async fn with_refits(backend: Backend, scoring: SocketAddr) -> Harness {
        let peers = Peers {
            profiles_up: true,
            scoring: None,
            refits: Some(scoring),
        };
        Harness::start_with(backend, peers, |_| ()).await
    }

    /// Ingestion with the given peers and settings changed by `change`.
    async fn start_with(
        backend: Backend,
        peers: Peers,
        change: impl FnOnce(&mut Config),
    ) -> Harness {
        let mut config = config(backend).await;
        change(&mut config);
        let token = config.internal_token.as_ref().unwrap().expose().to_owned();
        let (profiles, addr) = FakeProfiles::start(&token).await;
        let profiles_addr = if peers.profiles_up {
            addr
        } else {
            closed_port().await
        };
        config.peers.profiles_url = Some(format!("http://{profiles_addr}"));
        config.peers.scoring_url =
            (peers.scoring.or(peers.refits)).map(|addr| format!("http://{addr}"));
        let ts = TestServer::start(config, move |app, server, _| {
            let db = app.db(SCHEMA)?;
            let clients = PeerClients::new(&app.config).with_timeout(Duration::from_secs(5));
            add_to(
                server,
                db.clone(),
                clients.profiles()?,
                app.internal.clone(),
                app.config.max_message_bytes,
            );
            if peers.refits.is_some() {
                let settings = OpportunitiesConfig {
                    poll_interval_ms: 20,
                    refresh_hours: 0,
                    min_closed: 5,
                };
                spawn_opportunities(
                    db.clone(),
                    clients.profiles()?,
                    clients.scoring()?,
                    app.internal.clone(),
                    settings,
                    app.shutdown.clone(),
                );
            }
            if peers.scoring.is_some() {
                let listen_on = app.listen_pool(SCHEMA, &db)?;
                spawn_relay(
                    db,
                    listen_on,
                    clients.scoring()?,
                    app.internal.clone(),
                    app.config.section().expect("relay settings"),
                    app.shutdown.clone(),
                );
            }
            Ok(())
        })
        .await;
        let db = Db::connect_lazy(&ts.config, SCHEMA).unwrap();
        Harness { ts, profiles, db }
    }

    /// A client authenticated with `key`.
    pub fn client(&self, key: &str) -> Client {
        IngestionServiceClient::with_interceptor(self.ts.channel(), BearerAuth::new(key).unwrap())
    }

    /// A new tenant booking in EUR, and a client for it.
    pub async fn tenant(&self, name: &str) -> (Uuid, Client) {
        let (tenant, key) = self.ts.tenant(name, "EUR").await;
        (tenant.id, self.client(&key))
    }

    /// The internal credential the fakes must be given.
    pub fn token(&self) -> String {
        self.ts
            .config
            .internal_token
            .as_ref()
            .unwrap()
            .expose()
            .to_owned()
    }

    /// Rows in `table`, all tenants.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        on_pool!(&self.db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap())
    }

    /// Names of the partitions of `transactions` (Postgres only).
    pub async fn partitions(&self) -> Vec<String> {
        let Db::Postgres(pool) = &self.db else {
            return Vec::new();
        };
        let sql = "SELECT c.relname::text FROM pg_inherits i \
                   JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
                   WHERE p.relname = 'transactions' ORDER BY 1";
        sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
    }

    /// The queued changes, oldest first, with their tenant.
    pub async fn outbox(&self) -> Vec<(Uuid, ChangeEvent)> {
        let sql = "SELECT tenant_id, change FROM outbox ORDER BY id";
        let rows: Vec<(Id, Vec<u8>)> =
            on_pool!(&self.db, pool => sqlx::query_as(sql).fetch_all(pool).await.unwrap());
        rows.into_iter()
            .map(|(t, c)| (t.0, ChangeEvent::decode(c.as_slice()).unwrap()))
            .collect()
    }

    /// Stops the server and closes the inspection pool.
    pub async fn stop(self) {
        self.ts.stop().await;
        self.db.close().await;
    }
}

/// Ingests transactions; panics on an error.
pub async fn ingest(
    client: &mut Client,
    req: IngestTransactionsRequest,
) -> IngestTransactionsResponse {
    let resp = client
        .ingest_transactions(req)
        .await
        .expect("ingest transactions");
    resp.into_inner()
}

/// Ingests events; panics on an error.
pub async fn ingest_events(client: &mut Client, req: IngestEventsRequest) -> IngestEventsResponse {
    let resp = client.ingest_events(req).await.expect("ingest events");
    resp.into_inner()
}

/// A local port nothing listens on.
pub async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// `days` days ago, as a protobuf timestamp.
pub fn days_ago(days: i64) -> prost_types::Timestamp {
    chrono_to_timestamp(chrono::Utc::now() - chrono::Duration::days(days))
}

/// A good EUR purchase from "erp" by the customer the ERP knows as `customer`.
pub fn txn(external_id: &str, customer: &str, amount_minor: i64) -> Transaction {
    Transaction {
        source: "erp".into(),
        external_id: external_id.into(),
        customer: Some(ExternalIdentity {
            source: String::new(),
            external_id: customer.into(),
        }),
        kind: TransactionKind::Purchase as i32,
        occurred_at: Some(days_ago(1)),
        currency_code: "EUR".into(),
        amount: Some(Amount::AmountMinor(amount_minor)),
        ..Default::default()
    }
}

/// Polls `check` until it holds; panics after a generous deadline.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1000 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never happened: {what}");
}
