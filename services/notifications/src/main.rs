//! The notifications service as its own process: the gRPC API and the
//! delivery worker over one pool, calling profiles and scoring at the
//! configured peer URLs.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rapport_kit::app::exit(run().await)
}

async fn run() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args_of(
        "rapport-notifications: the Rapport notifications service",
        rapport_notifications::PEERS,
    )?;
    rapport_notifications::serve(app).await
}
