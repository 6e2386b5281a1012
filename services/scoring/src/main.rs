//! The scoring service as its own process. Needs `RAPPORT_INTERNAL_TOKEN`,
//! `RAPPORT_PEERS__PROFILES_URL` (wallet estimates come from Profiles) and
//! `RAPPORT_PEERS__NOTIFICATIONS_URL` (rules contact customers through it).
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    rapport_kit::app::exit(run().await)
}

async fn run() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args_of(
        "rapport-scoring: the Rapport scoring service",
        rapport_scoring::PEERS,
    )?;
    rapport_scoring::serve(app).await
}
