//! The notifications service as its own process: the gRPC API and the
//! delivery worker over one pool.

use rapport_notifications::{SCHEMA, add_to, spawn_worker};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args()?;
    let db = app.db(SCHEMA)?;
    let mut server = app.server();
    add_to(&mut server, db.clone());
    let worker = spawn_worker(db.clone(), app.config.notify.clone(), app.shutdown.clone());
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
