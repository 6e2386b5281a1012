//! The ingestion service as its own process. Needs `RAPPORT_INTERNAL_TOKEN`,
//! `RAPPORT_PEERS__PROFILES_URL` and `RAPPORT_PEERS__SCORING_URL`.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rapport_kit::app::exit(run().await)
}

async fn run() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args_of(
        "rapport-ingestion: the Rapport ingestion service",
        rapport_ingestion::PEERS,
    )?;
    rapport_ingestion::serve(app).await
}
