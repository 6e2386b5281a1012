//! The scoring service as its own process.

use rapport_scoring::{SCHEMA, add_to, cache_from_config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args()?;
    let db = app.db(SCHEMA)?;
    let cache = cache_from_config(&app.config).await?;
    let mut server = app.server();
    add_to(
        &mut server,
        db.clone(),
        cache,
        app.config.cache_prefix.clone(),
    );
    app.shutdown.on_signals();
    let (listener, addr) = app.bind().await?;
    tracing::info!(%addr, "scoring service starting");
    server.serve(listener, app.shutdown.clone()).await?;
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
