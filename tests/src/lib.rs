//! Helpers for the end-to-end tests: the suite in its production shape (one
//! server per service, talking over gRPC), composed by the same functions
//! as the one-process suite.
#![forbid(unsafe_code)]

pub mod all_in_one;
pub mod http;
pub mod rpc;
pub mod seeds;
pub mod world;

use rapport::suite;
use rapport_kit::{config::Config, peers::PeerClients, testing::TestServer};

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
    /// Starts every service on its own port with `config`, each told where
    /// its peers are as a one-service process is (`config.peers`).
    pub async fn start(mut config: Config) -> SplitSuite {
        // Profiles calls the other three (customer export and erasure),
        // notifications and scoring call each other: pick every port first
        // so each can be given the others' URLs.
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
        };
        let (scoring_listen, notifications_listen, ingestion_listen) = (free(), free(), free());
        config.peers.scoring_url = Some(format!("http://{scoring_listen}"));
        config.peers.notifications_url = Some(format!("http://{notifications_listen}"));
        config.peers.ingestion_url = Some(format!("http://{ingestion_listen}"));
        let profiles = TestServer::start(config.clone(), |app, server, _| {
            let peers =
                rapport_profiles::connect_peers(&PeerClients::new(&app.config), &app.internal)?;
            let db = app.db(rapport_profiles::SCHEMA)?;
            rapport_profiles::add_with_peers(server, db, Some(peers));
            Ok(())
        })
        .await;
        let cache = rapport_scoring::cache_from_config(&config)
            .await
            .expect("cache");
        config.peers.profiles_url = Some(profiles.url());
        let mut notifications_config = config.clone();
        notifications_config.listen = notifications_listen;
        let notifications = TestServer::start(notifications_config, move |app, server, _| {
            let peers = rapport_notifications::connect_peers(
                &PeerClients::new(&app.config),
                &app.internal,
            )?;
            let db = app.db(rapport_notifications::SCHEMA)?;
            suite::notifications_with_delivery(app, server, db, app.config.section()?, peers)?;
            Ok(())
        })
        .await;
        let mut scoring_config = config.clone();
        scoring_config.listen = scoring_listen;
        let scoring = TestServer::start(scoring_config, move |app, server, _| {
            let peers = PeerClients::new(&app.config);
            let db = app.db(rapport_scoring::SCHEMA)?;
            let (profiles, notifications) = (peers.profiles()?, peers.notifications()?);
            let handle = rapport_scoring::add_to(server, app, db, cache, profiles, notifications);
            suite::scoring_workers(app, &handle);
            Ok(())
        })
        .await;
        config.listen = ingestion_listen;
        let ingestion = TestServer::start(config, move |app, server, _| {
            let peers = PeerClients::new(&app.config);
            let db = app.db(rapport_ingestion::SCHEMA)?;
            let (profiles, scoring) = (peers.profiles()?, peers.scoring()?);
            suite::ingestion(app, server, db, profiles, scoring, app.config.section()?);
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

    /// Clients for two new tenants, "acme" and "globex".
    pub async fn two_tenants(&self) -> (rapport::client::Clients, rapport::client::Clients) {
        let (_, key_a) = self.profiles.tenant("acme", "EUR").await;
        let (_, key_b) = self.profiles.tenant("globex", "EUR").await;
        (self.clients(&key_a), self.clients(&key_b))
    }

    /// Stops all four.
    pub async fn stop(self) {
        self.ingestion.stop().await;
        self.notifications.stop().await;
        self.scoring.stop().await;
        self.profiles.stop().await;
    }
}

pub use rapport::suite::SCHEMAS;

/// Puts a real PgBouncer (transaction mode, prepared statements on) between
/// the services of `config` and its Postgres database, as production does:
/// `database_url` becomes the pooler's `…/rapport_{schema}`, and with
/// `direct` `database_direct_url` the database itself, for `LISTEN` (without
/// it the services poll). Keep the value alive as long as the services.
pub async fn through_pgbouncer(
    config: &mut Config,
    direct: bool,
) -> rapport_kit::testing::instances::PgBouncer {
    let direct_url = config
        .database_url
        .clone()
        .expect("a postgres database_url");
    let bouncer = rapport_kit::testing::instances::PgBouncer::spawn(
        direct_url.expose().to_owned(),
        SCHEMAS.to_vec(),
    )
    .await;
    config.database_url = Some(rapport_kit::config::Secret::new(bouncer.url()));
    config.database_direct_url = direct.then_some(direct_url);
    bouncer
}

/// Asserts that `bouncer` carried transactions for every service's schema
/// (its `SHOW STATS`), so no service went around the pooler.
pub fn assert_every_schema_pooled(bouncer: &rapport_kit::testing::instances::PgBouncer) {
    let stats = bouncer.transactions();
    for schema in SCHEMAS {
        let carried = stats
            .iter()
            .find(|(db, _)| db.ends_with(&format!("_{schema}")))
            .map_or(0, |(_, n)| *n);
        assert!(
            carried > 0,
            "PgBouncer carried no transaction for {schema}: {stats:?}"
        );
    }
}

/// Ingestion alone (no outbox relay, 1 MiB messages), asking the profiles
/// service at `profiles_url` with `timeout`.
pub async fn ingestion_alone(
    config: Config,
    profiles_url: String,
    timeout: std::time::Duration,
) -> TestServer {
    TestServer::start(config, move |app, server, _| {
        let channel = rapport_kit::internal::lazy_channel(&profiles_url, timeout)?;
        rapport_ingestion::add_to(
            server,
            app.db(rapport_ingestion::SCHEMA)?,
            rapport_proto::v1::profiles_service_client::ProfilesServiceClient::new(channel),
            app.internal.clone(),
            1 << 20,
        );
        Ok(())
    })
    .await
}

/// The score of `customer_id` once `ready` holds for it, asked every 50 ms
/// for at most `within`; `None` if it never did.
pub async fn score_once(
    clients: &mut rapport::client::Clients,
    customer_id: &str,
    within: std::time::Duration,
    ready: impl Fn(&rapport_proto::v1::Score) -> bool,
) -> Option<rapport_proto::v1::Score> {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        let request = rapport_proto::v1::GetScoreRequest {
            customer_id: customer_id.into(),
        };
        if let Ok(answer) = clients.scoring.get_score(request).await {
            let score = answer.into_inner().score;
            if let Some(score) = score.filter(&ready) {
                return Some(score);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    None
}

/// Ingests `purchase`, the first of its ERP customer, checks it was
/// accepted, and waits up to `within` for a score that counts it; `None` if
/// none did.
pub async fn first_purchase_scored(
    clients: &mut rapport::client::Clients,
    purchase: rapport_proto::v1::Transaction,
    within: std::time::Duration,
) -> Option<rapport_proto::v1::Score> {
    let customer_ref = purchase
        .customer
        .clone()
        .expect("an ERP customer")
        .external_id;
    let answer = clients
        .ingestion
        .ingest_transactions(rapport_proto::v1::IngestTransactionsRequest {
            transactions: vec![purchase],
        })
        .await
        .expect("ingest")
        .into_inner();
    assert_eq!(answer.accepted, 1, "{answer:?}");
    let customer = customer_id(clients, &customer_ref).await;
    score_once(clients, &customer, within, |s| s.purchase_count == 1).await
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

/// A customer known by its ERP number.
pub fn erp_customer(external_id: &str) -> Option<rapport_proto::v1::ExternalIdentity> {
    Some(rapport_proto::v1::ExternalIdentity {
        source: "erp".into(),
        external_id: external_id.into(),
    })
}

/// An ERP purchase `id` of `amount` euro cents by the ERP customer
/// `customer_ref`, made `days_ago` days ago.
pub fn purchase(
    id: &str,
    customer_ref: &str,
    days_ago: i64,
    amount: i64,
) -> rapport_proto::v1::Transaction {
    use rapport_proto::v1::{TransactionKind, transaction::Amount};
    let at = chrono::Utc::now() - chrono::Duration::days(days_ago);
    rapport_proto::v1::Transaction {
        source: "erp".into(),
        external_id: id.into(),
        customer: erp_customer(customer_ref),
        kind: TransactionKind::Purchase as i32,
        occurred_at: Some(rapport_kit::domain::chrono_to_timestamp(at)),
        currency_code: "EUR".into(),
        amount: Some(Amount::AmountMinor(amount)),
        ..Default::default()
    }
}
