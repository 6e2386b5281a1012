//! Running the services: `rapport up` (all four in one process, or as four
//! processes with `--split`), `rapport serve <service>` and `rapport migrate`.

use std::{net::SocketAddr, path::Path, time::Duration};

use rapport_kit::{app::App, config::Config};

use crate::{
    split,
    suite::{self, Suite},
};

#[derive(clap::Args)]
pub(super) struct UpArgs {
    /// Address to listen on (default 127.0.0.1:50051).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Runs the four services as separate processes instead (the
    /// production topology on one machine): profiles on the listen
    /// port + 10, ingestion + 11, scoring + 12, notifications + 13, each
    /// told where its peers are, all with one internal credential
    /// (RAPPORT_INTERNAL_TOKEN, generated when unset); stops them together.
    /// With metrics_listen set, each serves its metrics on that port plus
    /// 0 (profiles), 1 (ingestion), 2 (scoring) and 3 (notifications).
    #[arg(long)]
    split: bool,
}

#[derive(clap::Args)]
pub(super) struct ServeArgs {
    /// Which service.
    #[arg(value_enum)]
    service: split::Service,
    /// Address to listen on.
    #[arg(long)]
    listen: Option<SocketAddr>,
}

/// `--listen` as a configuration override.
fn listen_override(listen: Option<SocketAddr>) -> Vec<(&'static str, String)> {
    listen
        .map(|l| ("listen", l.to_string()))
        .into_iter()
        .collect()
}

/// `rapport up`: serves until SIGTERM or Ctrl-C.
pub(super) async fn up(
    args: UpArgs,
    config_file: Option<&Path>,
    load: impl Fn(&[(&str, String)]) -> anyhow::Result<Config>,
) -> anyhow::Result<()> {
    if args.split {
        let config = load(&[])?;
        rapport_kit::telemetry::init(config.log_format);
        let base = args.listen.unwrap_or(config.listen);
        return split::run(base, config.metrics_listen, config_file).await;
    }
    let config = load(&listen_override(args.listen))?;
    let suite = Suite::start(config).await?;
    suite.wait_ready(Duration::from_secs(60)).await?;
    tracing::info!(url = %suite.url(), "rapport is up");
    // On stdout, not in the log: what a person starting it looks for.
    println!(
        "Rapport is up on {}\nDashboard: {} (sign in with a tenant's API key)",
        suite.url(),
        suite.dashboard_url()
    );
    suite.run_until_signal().await
}

/// `rapport serve <service>`: one service, as its own binary would run it.
pub(super) async fn serve(
    args: ServeArgs,
    load: impl Fn(&[(&str, String)]) -> anyhow::Result<Config>,
) -> anyhow::Result<()> {
    use clap::ValueEnum;
    let name = args.service.to_possible_value();
    let name = name.as_ref().map(|v| v.get_name()).unwrap_or_default();
    let app = App::for_service(load(&listen_override(args.listen))?, name)?;
    split::serve(args.service, app).await
}

/// `rapport migrate`.
pub(super) async fn migrate(config: Config) -> anyhow::Result<()> {
    rapport_kit::telemetry::init(config.log_format);
    suite::migrate(config).await?;
    println!("migrations applied");
    Ok(())
}
