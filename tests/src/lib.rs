//! Helpers for the end-to-end tests: the suite in its production shape (one
//! server per service, talking over gRPC).
#![forbid(unsafe_code)]

use std::time::Duration;

use rapport_kit::{config::Config, internal::lazy_channel, testing::TestServer};
use rapport_proto::v1::{
    notifications_service_client::NotificationsServiceClient,
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};

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
