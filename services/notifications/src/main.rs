//! The notifications service as its own process: the gRPC API and the
//! delivery worker over one pool, calling profiles and scoring at the
//! configured peer URLs.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = rapport_kit::app::App::from_args()?;
    rapport_notifications::serve(app).await
}
