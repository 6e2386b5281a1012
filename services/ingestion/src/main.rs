//! The ingestion service as its own process. Needs `RAPPORT_INTERNAL_TOKEN`,
//! `RAPPORT_PEERS__PROFILES_URL` and `RAPPORT_PEERS__SCORING_URL`.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args()?;
    rapport_ingestion::serve(app).await
}
