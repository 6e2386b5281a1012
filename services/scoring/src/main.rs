//! The scoring service as its own process. Needs `RAPPORT_INTERNAL_TOKEN`,
//! `RAPPORT_PEERS__PROFILES_URL` (wallet estimates come from Profiles) and
//! `RAPPORT_PEERS__NOTIFICATIONS_URL` (rules contact customers through it).

use anyhow::Context;
use rapport_kit::internal::lazy_channel;
use rapport_proto::v1::{
    notifications_service_client::NotificationsServiceClient,
    profiles_service_client::ProfilesServiceClient,
};
use rapport_scoring::{
    RefreshOptions, RulesOptions, SCHEMA, add_to, cache_from_config, spawn_refresh, spawn_rules,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args()?;
    let db = app.db(SCHEMA).context("opening the scoring database")?;
    let cache = cache_from_config(&app.config).await?;
    let profiles_url = app
        .config
        .peers
        .profiles_url
        .as_deref()
        .context("RAPPORT_PEERS__PROFILES_URL is required")?;
    let channel =
        lazy_channel(profiles_url, app.config.request_timeout()).context("profiles url")?;
    let profiles =
        ProfilesServiceClient::new(channel).max_decoding_message_size(app.config.max_message_bytes);
    let notifications_url = app
        .config
        .peers
        .notifications_url
        .as_deref()
        .context("RAPPORT_PEERS__NOTIFICATIONS_URL is required")?;
    let notifications = NotificationsServiceClient::new(
        lazy_channel(notifications_url, app.config.request_timeout())
            .context("notifications url")?,
    );
    let mut server = app.server();
    let handle = add_to(
        &mut server,
        &app,
        db.clone(),
        cache,
        profiles,
        notifications,
    );
    let refresh = spawn_refresh(&handle, RefreshOptions::default(), app.shutdown.clone());
    let rules = spawn_rules(&handle, RulesOptions::default(), app.shutdown.clone());
    app.shutdown.on_signals();
    let (listener, addr) = app.bind().await?;
    tracing::info!(%addr, "scoring service starting");
    server.serve(listener, app.shutdown.clone()).await?;
    let _ = refresh.await;
    let _ = rules.await;
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
