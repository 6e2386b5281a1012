//! `rapport up --split`: the four processes started from this binary and
//! supervised until a signal, or until one of them exits.

use std::{net::SocketAddr, path::Path, time::Duration};

use super::{
    addrs::addrs_from,
    process::{METRICS_VAR, Split, SplitOptions},
};

/// `rapport up --split`: starts the four processes on the environment of
/// this one, prints where they are, and supervises them until SIGTERM or
/// Ctrl-C (or one of them exits), then stops them all. With `metrics` set,
/// each process serves its metrics on a port of its own from there on.
pub async fn run(
    base: SocketAddr,
    metrics: Option<SocketAddr>,
    config_file: Option<&Path>,
) -> anyhow::Result<()> {
    let rapport_bin = std::env::current_exe()?;
    let internal_token = match std::env::var("RAPPORT_INTERNAL_TOKEN") {
        Ok(t) if !t.is_empty() => t,
        _ => format!("internal_{}", uuid::Uuid::new_v4().simple()),
    };
    let mut env = Vec::new();
    if let Some(file) = config_file {
        env.push(("RAPPORT_CONFIG".to_owned(), file.display().to_string()));
    }
    // However it was set (file, variable), the processes get it as a
    // variable, which each one moves to a port of its own.
    if let Some(metrics) = metrics {
        env.push((METRICS_VAR.to_owned(), metrics.to_string()));
    }
    let opts = SplitOptions {
        rapport_bin,
        addrs: addrs_from(base)?,
        env,
        internal_token,
        log_dir: None,
    };
    let mut split = Split::start(&opts).await?;
    if let Err(e) = split.wait_ready(Duration::from_secs(120)).await {
        split.stop(Duration::from_secs(10)).await;
        return Err(e);
    }
    for s in &split.services {
        println!("{:<14} {}", s.name, s.url());
    }
    println!("all four services are up; Ctrl-C stops them");
    let shutdown = rapport_kit::shutdown::Shutdown::new();
    shutdown.on_signals();
    let exited = tokio::select! {
        _ = shutdown.wait() => None,
        (name, status) = split.wait_any_exit() => Some((name, status)),
    };
    split.stop(Duration::from_secs(30)).await;
    match exited {
        None => Ok(()),
        Some((name, status)) => {
            anyhow::bail!("rapport-{name} exited ({status:?}); stopped the others")
        }
    }
}
