//! The notifications service as its own process: the gRPC API and the
//! delivery worker over one pool, calling profiles and scoring at the
//! configured peer URLs.

use anyhow::Context;
use rapport_kit::internal::lazy_channel;
use rapport_notifications::{Peers, SCHEMA, add_to, spawn_worker};
use rapport_proto::v1::{
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args()?;
    let peers = &app.config.peers;
    let profiles_url = peers
        .profiles_url
        .clone()
        .context("RAPPORT_PEERS__PROFILES_URL is required: consent and profiles come from there")?;
    let scoring_url = peers
        .scoring_url
        .clone()
        .context("RAPPORT_PEERS__SCORING_URL is required: template scores come from there")?;
    let timeout = app.config.request_timeout();
    let peers = Peers::new(
        ProfilesServiceClient::new(lazy_channel(&profiles_url, timeout)?),
        ScoringServiceClient::new(lazy_channel(&scoring_url, timeout)?),
        app.internal.clone(),
    );
    let db = app.db(SCHEMA)?;
    let mut server = app.server();
    add_to(&mut server, db.clone(), &app.config.notify, peers.clone());
    let worker = spawn_worker(
        db.clone(),
        app.config.notify.clone(),
        peers,
        app.shutdown.clone(),
    )
    .context("notification delivery settings")?;
    app.shutdown.on_signals();
    let (listener, _) = app.bind().await?;
    server.serve(listener, app.shutdown.clone()).await?;
    // The server has drained; let deliveries in flight finish and be recorded.
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "notification worker ended abnormally");
    }
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
