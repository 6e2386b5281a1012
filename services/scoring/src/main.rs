//! The scoring service as its own process. Needs `RAPPORT_INTERNAL_TOKEN`,
//! `RAPPORT_PEERS__PROFILES_URL` (wallet estimates come from Profiles) and
//! `RAPPORT_PEERS__NOTIFICATIONS_URL` (rules contact customers through it).
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args()?;
    rapport_scoring::serve(app).await
}
