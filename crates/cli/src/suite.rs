//! All four services in one process on one port. The services still talk to
//! each other over gRPC (through the same port), exactly as they do when each
//! runs in its own pod, so the embedded default exercises the production paths.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use rapport_kit::{Db, app::App, config::Config, peers::PeerClients, server::Server};
use rapport_proto::v1::{
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// Every schema the suite keeps in Postgres: the tenant registry's and one
/// per service.
pub const SCHEMAS: [&str; 5] = [
    rapport_kit::tenants::SCHEMA,
    rapport_profiles::SCHEMA,
    rapport_ingestion::SCHEMA,
    rapport_scoring::SCHEMA,
    rapport_notifications::SCHEMA,
];

/// A running suite.
pub struct Suite {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The process parts: tenants, credentials, shutdown.
    pub app: App,
    server: JoinHandle<anyhow::Result<()>>,
    workers: Vec<JoinHandle<()>>,
    dbs: Vec<Db>,
}

/// The pools of the four services plus the tenant registry.
fn open_dbs(app: &App) -> anyhow::Result<[Db; 4]> {
    Ok([
        app.db(rapport_profiles::SCHEMA)?,
        app.db(rapport_ingestion::SCHEMA)?,
        app.db(rapport_scoring::SCHEMA)?,
        app.db(rapport_notifications::SCHEMA)?,
    ])
}

impl Suite {
    /// Binds `config.listen` and starts every service and background worker.
    pub async fn start(config: Config) -> anyhow::Result<Suite> {
        let app = App::new(config, false)?;
        let listener = tokio::net::TcpListener::bind(app.config.listen)
            .await
            .with_context(|| format!("binding {}", app.config.listen))?;
        let addr = listener.local_addr()?;
        // Peers default to this very process.
        let local = SocketAddr::from(([127, 0, 0, 1], addr.port()));
        let peers = PeerClients::new(&app.config).or_at(format!("http://{local}"));
        let profiles = peers.profiles()?;
        let scoring = peers.scoring()?;
        // One connection per peer, shared by the services that call it.
        let notify_peers = rapport_notifications::Peers::new(
            profiles.clone(),
            scoring.clone(),
            app.internal.clone(),
        );
        let [profiles_db, ingestion_db, scoring_db, notifications_db] = open_dbs(&app)?;
        let cache = rapport_scoring::cache_from_config(&app.config).await?;
        let notifications = peers.notifications()?;
        let notify = app.config.section()?;
        let relay = app.config.section()?;
        let mut server = app.server();
        // One port serves every service here, so the dashboard (which calls
        // them all from the page's own origin) is served on it too.
        server.add_pages(dashboard_page);
        let profiles_peers = rapport_profiles::connect_peers(&peers, &app.internal)?;
        rapport_profiles::add_with_peers(&mut server, profiles_db.clone(), Some(profiles_peers));
        let relay = ingestion(
            &app,
            &mut server,
            ingestion_db.clone(),
            profiles.clone(),
            scoring,
            relay,
        );
        let scoring_handle = rapport_scoring::add_to(
            &mut server,
            &app,
            scoring_db.clone(),
            cache,
            profiles,
            notifications,
        );
        let delivery = notifications_with_delivery(
            &app,
            &mut server,
            notifications_db.clone(),
            notify,
            notify_peers,
        )?;
        let [refresh, rules] = scoring_workers(&app, &scoring_handle);
        let workers = vec![relay, delivery, refresh, rules];
        let server = tokio::spawn(server.serve(listener, app.shutdown.clone()));
        let dbs = vec![
            profiles_db,
            ingestion_db,
            scoring_db,
            notifications_db,
            app.tenants_db.clone(),
        ];
        Ok(Suite {
            addr,
            app,
            server,
            workers,
            dbs,
        })
    }

    /// `http://127.0.0.1:port`, or `https://` when it serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.app.config.tls.serves() {
            "https"
        } else {
            "http"
        };
        let local = SocketAddr::from(([127, 0, 0, 1], self.addr.port()));
        format!("{scheme}://{local}")
    }

    /// The web dashboard's address: [`Suite::url`] and `/ui/`.
    pub fn dashboard_url(&self) -> String {
        format!("{}/ui/", self.url())
    }

    /// Waits until every service reports SERVING (migrations applied).
    pub async fn wait_ready(&self, within: Duration) -> anyhow::Result<()> {
        crate::client::wait_serving_over(&self.url(), &self.app.config.tls, within).await
    }

    /// Waits for SIGTERM/SIGINT, then stops.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        self.app.shutdown.on_signals();
        self.app.shutdown.wait().await;
        self.stop().await
    }

    /// Stops accepting, drains in-flight work and background workers, closes pools.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.app.shutdown.trigger();
        let served = self.server.await.context("server task")?;
        for w in self.workers {
            let _ = tokio::time::timeout(self.app.config.shutdown_grace(), w).await;
        }
        for db in &self.dbs {
            db.close().await;
        }
        served
    }
}

/// The dashboard's file at `path`, as the server serves it.
fn dashboard_page(path: &str) -> Option<rapport_kit::server::pages::Page> {
    rapport_ui::asset(path).map(|a| rapport_kit::server::pages::Page {
        content_type: a.content_type,
        body: a.body,
    })
}

/// Adds ingestion's API to `server` and starts its outbox relay to `scoring`
/// with `relay` settings.
pub fn ingestion(
    app: &App,
    server: &mut Server,
    db: Db,
    profiles: ProfilesServiceClient<Channel>,
    scoring: ScoringServiceClient<Channel>,
    relay: rapport_ingestion::config::RelayConfig,
) -> JoinHandle<()> {
    rapport_ingestion::add_to(
        server,
        db.clone(),
        profiles.clone(),
        app.internal.clone(),
        app.config.max_message_bytes,
    );
    // Bad `[opportunities]` settings fall back to the defaults here (the
    // split `rapport serve ingestion` refuses them); the refit job stops
    // with the others on shutdown.
    rapport_ingestion::spawn_opportunities(
        db.clone(),
        profiles,
        scoring.clone(),
        app.internal.clone(),
        app.config.section().unwrap_or_default(),
        app.shutdown.clone(),
    );
    let listen_on = app
        .listen_pool(rapport_ingestion::SCHEMA, &db)
        .unwrap_or_else(|error| {
            tracing::error!(%error, "database_direct_url unusable; the relay polls");
            None
        });
    rapport_ingestion::spawn_relay(
        db,
        listen_on,
        scoring,
        app.internal.clone(),
        relay,
        app.shutdown.clone(),
    )
}

/// Adds notifications' API to `server` and starts its delivery worker with
/// `notify` settings.
pub fn notifications_with_delivery(
    app: &App,
    server: &mut Server,
    db: Db,
    notify: rapport_notifications::config::NotifyConfig,
    peers: rapport_notifications::Peers,
) -> anyhow::Result<JoinHandle<()>> {
    rapport_notifications::add_to(server, db.clone(), &notify, peers.clone());
    rapport_notifications::spawn_worker(db, notify, peers, app.shutdown.clone())
        .context("notification delivery settings")
}

/// Starts scoring's background workers with default options: the refresh,
/// then the rules worker.
pub fn scoring_workers(app: &App, scoring: &rapport_scoring::Scoring) -> [JoinHandle<()>; 2] {
    [
        rapport_scoring::spawn_refresh(
            scoring,
            rapport_scoring::RefreshOptions::default(),
            app.shutdown.clone(),
        ),
        rapport_scoring::spawn_rules(
            scoring,
            rapport_scoring::RulesOptions::default(),
            app.shutdown.clone(),
        ),
    ]
}

/// Applies every schema's migrations and returns (the `migrate` command).
pub async fn migrate(config: Config) -> anyhow::Result<()> {
    let app = App::new(config, false)?;
    migrate_tenants(&app).await?;
    let [p, i, s, n] = open_dbs(&app)?;
    p.migrate(rapport_profiles::SCHEMA, &rapport_profiles::MIGRATIONS)
        .await?;
    i.migrate(rapport_ingestion::SCHEMA, &rapport_ingestion::MIGRATIONS)
        .await?;
    s.migrate(rapport_scoring::SCHEMA, &rapport_scoring::MIGRATIONS)
        .await?;
    n.migrate(
        rapport_notifications::SCHEMA,
        &rapport_notifications::MIGRATIONS,
    )
    .await?;
    for db in [p, i, s, n, app.tenants_db.clone()] {
        db.close().await;
    }
    Ok(())
}

/// Applies the tenant registry's migrations.
pub async fn migrate_tenants(app: &App) -> anyhow::Result<()> {
    app.tenants_db
        .migrate(
            rapport_kit::tenants::SCHEMA,
            &rapport_kit::tenants::MIGRATIONS,
        )
        .await?;
    Ok(())
}
