//! The ingestion service as its own process. Needs `RAPPORT_INTERNAL_TOKEN`,
//! `RAPPORT_PEERS__PROFILES_URL` and `RAPPORT_PEERS__SCORING_URL`.
#![forbid(unsafe_code)]

use anyhow::Context;
use rapport_ingestion::{SCHEMA, add_to, spawn_relay};
use rapport_kit::{app::App, internal::lazy_channel};
use rapport_proto::v1::{
    profiles_service_client::ProfilesServiceClient, scoring_service_client::ScoringServiceClient,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = App::from_args()?;
    let db = app.db(SCHEMA).context("opening the ingestion database")?;
    let peers = &app.config.peers;
    let timeout = app.config.request_timeout();
    let profiles_url = peers
        .profiles_url
        .as_deref()
        .context("RAPPORT_PEERS__PROFILES_URL is required")?;
    let scoring_url = peers
        .scoring_url
        .as_deref()
        .context("RAPPORT_PEERS__SCORING_URL is required")?;
    let profiles = lazy_channel(profiles_url, timeout).context("profiles url")?;
    let scoring = lazy_channel(scoring_url, timeout).context("scoring url")?;

    let mut server = app.server();
    add_to(
        &mut server,
        db.clone(),
        ProfilesServiceClient::new(profiles),
        app.internal.clone(),
        app.config.max_message_bytes,
    );
    let relay = spawn_relay(
        db.clone(),
        ScoringServiceClient::new(scoring),
        app.internal.clone(),
        app.config.relay.clone(),
        app.shutdown.clone(),
    );
    app.shutdown.on_signals();
    let (listener, _) = app.bind().await.context("binding the listen address")?;
    server.serve(listener, app.shutdown.clone()).await?;
    relay.await.context("outbox relay task")?;
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
