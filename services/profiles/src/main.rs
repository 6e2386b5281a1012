//! The profiles service as its own process.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args()?;
    rapport_profiles::serve(app).await
}
