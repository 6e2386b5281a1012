//! The profiles service as its own process.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rapport_kit::app::exit(run().await)
}

async fn run() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args_of(
        "rapport-profiles: the Rapport profiles service",
        rapport_profiles::PEERS,
    )?;
    rapport_profiles::serve(app).await
}
