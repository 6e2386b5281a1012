//! The profiles service as its own process.
#![forbid(unsafe_code)]

use anyhow::Context;
use rapport_kit::app::App;
use rapport_profiles::{SCHEMA, add_to};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = App::from_args().context("loading configuration")?;
    let db = app.db(SCHEMA).context("opening the profiles database")?;
    let mut server = app.server();
    add_to(&mut server, db.clone());
    app.shutdown.on_signals();
    let (listener, _) = app.bind().await.context("binding the listen address")?;
    server
        .serve(listener, app.shutdown.clone())
        .await
        .context("serving")?;
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
