//! The production topology on one machine: the four services as separate
//! processes (`rapport serve <service>`, the same code as each service's own
//! binary), each told where its peers are and all sharing one internal
//! credential. `rapport up --split` supervises them; the benchmark suite
//! starts its split target through the same code.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::Context;
use rapport_kit::app::App;
use tokio::process::{Child, Command};

/// The four services, in the order they are started (each only needs its
/// peers' addresses, not their readiness: connections are made lazily).
pub const SERVICES: [&str; 4] = ["profiles", "notifications", "scoring", "ingestion"];

/// A service, as `rapport serve` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    /// Customers, identities, consent, hierarchy.
    Profiles,
    /// Transactions, events and the outbox relay.
    Ingestion,
    /// Scores, models and rules.
    Scoring,
    /// Templates and deliveries.
    Notifications,
}

/// Runs `service` in this process until SIGTERM or SIGINT.
pub async fn serve(service: Service, app: App) -> anyhow::Result<()> {
    match service {
        Service::Profiles => rapport_profiles::serve(app).await,
        Service::Ingestion => rapport_ingestion::serve(app).await,
        Service::Scoring => rapport_scoring::serve(app).await,
        Service::Notifications => rapport_notifications::serve(app).await,
    }
}

/// The peers each service needs.
pub fn peers_of(service: &str) -> &'static [&'static str] {
    match service {
        "ingestion" => rapport_ingestion::PEERS,
        "scoring" => rapport_scoring::PEERS,
        "notifications" => rapport_notifications::PEERS,
        _ => rapport_profiles::PEERS,
    }
}

/// How to start the split suite.
#[derive(Debug, Clone)]
pub struct SplitOptions {
    /// The `rapport` binary (each process is `rapport serve <service>`).
    pub rapport_bin: PathBuf,
    /// Address of each service, by [`SERVICES`] order.
    pub addrs: [SocketAddr; 4],
    /// Variables every process gets on top of this process's environment
    /// (`DATABASE_URL`, `REDIS_URL`, ...).
    pub env: Vec<(String, String)>,
    /// The shared internal credential.
    pub internal_token: String,
    /// Each process's output goes to `<dir>/<service>.log` when set;
    /// otherwise it is this process's.
    pub log_dir: Option<PathBuf>,
}

/// One running service process.
#[derive(Debug)]
pub struct ServiceProcess {
    /// "profiles", "ingestion", ...
    pub name: &'static str,
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
}

impl ServiceProcess {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

/// The four running processes.
#[derive(Debug)]
pub struct Split {
    /// In [`SERVICES`] order.
    pub services: Vec<ServiceProcess>,
}

/// `RAPPORT_PEERS__SCORING_URL` for "scoring".
fn peer_var(service: &str) -> String {
    format!("RAPPORT_PEERS__{}_URL", service.to_uppercase())
}

impl Split {
    /// Starts the four processes. Fails, stopping any already started, if
    /// one cannot be started.
    pub async fn start(opts: &SplitOptions) -> anyhow::Result<Split> {
        let url_of = |name: &str| {
            let i = SERVICES.iter().position(|s| *s == name).unwrap_or(0);
            format!("http://{}", opts.addrs[i])
        };
        let mut split = Split {
            services: Vec::new(),
        };
        for (i, name) in SERVICES.into_iter().enumerate() {
            let mut cmd = Command::new(&opts.rapport_bin);
            cmd.arg("serve")
                .arg(name)
                .envs(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .env("RAPPORT_LISTEN", opts.addrs[i].to_string())
                .env("RAPPORT_INTERNAL_TOKEN", &opts.internal_token)
                .stdin(Stdio::null())
                .kill_on_drop(true);
            for peer in peers_of(name) {
                cmd.env(peer_var(peer), url_of(peer));
            }
            if let Some(dir) = &opts.log_dir {
                let log = std::fs::File::create(dir.join(format!("{name}.log")))
                    .with_context(|| format!("creating the {name} log"))?;
                cmd.stdout(log.try_clone()?).stderr(log);
            }
            match cmd.spawn() {
                Ok(child) => split.services.push(ServiceProcess {
                    name,
                    addr: opts.addrs[i],
                    child,
                }),
                Err(e) => {
                    split.stop(Duration::from_secs(5)).await;
                    return Err(e).with_context(|| format!("starting rapport serve {name}"));
                }
            }
        }
        Ok(split)
    }
    /// The process of `service`.
    pub fn service(&self, name: &str) -> Option<&ServiceProcess> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Waits until every service reports SERVING; fails early, naming it,
    /// if one exits.
    pub async fn wait_ready(&mut self, within: Duration) -> anyhow::Result<()> {
        for i in 0..self.services.len() {
            let url = self.services[i].url();
            let ready = crate::client::wait_serving(&url, within);
            let mut ready = std::pin::pin!(ready);
            loop {
                tokio::select! {
                    r = &mut ready => { r?; break; }
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {
                        let s = &mut self.services[i];
                        if let Some(status) = s.child.try_wait()? {
                            anyhow::bail!("rapport serve {} exited during start-up ({status})", s.name);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Waits until any process exits; returns its name and status.
    pub async fn wait_any_exit(
        &mut self,
    ) -> (&'static str, std::io::Result<std::process::ExitStatus>) {
        let waits = self.services.iter_mut().map(|s| {
            let name = s.name;
            Box::pin(async move { (name, s.child.wait().await) })
        });
        futures::future::select_all(waits).await.0
    }

    /// Asks every process to stop (SIGTERM), waits up to `grace` for them to
    /// drain, then kills what is left.
    pub async fn stop(&mut self, grace: Duration) {
        for s in &self.services {
            if let Some(pid) = s.pid() {
                terminate(pid);
            }
        }
        for s in &mut self.services {
            if tokio::time::timeout(grace, s.child.wait()).await.is_err() {
                tracing::warn!(
                    service = s.name,
                    "did not stop within the grace period; killed"
                );
                let _ = s.child.kill().await;
            }
        }
    }
}

/// Sends SIGTERM through `kill(1)`, so no unsafe code is needed here.
pub fn terminate(pid: u32) {
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Free loopback addresses, one per service (bound and released at once;
/// another process could take one in between, which start-up then reports).
pub fn free_addrs<const N: usize>() -> anyhow::Result<[SocketAddr; N]> {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind(("127.0.0.1", 0)))
        .collect::<Result<_, _>>()?;
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .map(|l| l.local_addr())
        .collect::<Result<_, _>>()?;
    addrs
        .try_into()
        .map_err(|_| anyhow::anyhow!("could not pick {N} free ports"))
}

/// The address of each service for `rapport up --split` with base address
/// `base`: profiles on port + 10, ingestion + 11, scoring + 12,
/// notifications + 13 (so 50061..50064 from the default 50051).
pub fn addrs_from(base: SocketAddr) -> anyhow::Result<[SocketAddr; 4]> {
    let offset = |service: &str| match service {
        "profiles" => 10,
        "ingestion" => 11,
        "scoring" => 12,
        _ => 13,
    };
    let mut addrs = [base; 4];
    for (i, name) in SERVICES.iter().enumerate() {
        let port = base
            .port()
            .checked_add(offset(name))
            .context("the listen port leaves no room for the four services above it")?;
        addrs[i].set_port(port);
    }
    Ok(addrs)
}

/// `rapport up --split`: starts the four processes on the environment of
/// this one, prints where they are, and supervises them until SIGTERM or
/// Ctrl-C (or one of them exits), then stops them all.
pub async fn run(base: SocketAddr, config_file: Option<&Path>) -> anyhow::Result<()> {
    let rapport_bin = std::env::current_exe()?;
    let internal_token = match std::env::var("RAPPORT_INTERNAL_TOKEN") {
        Ok(t) if !t.is_empty() => t,
        _ => format!("internal_{}", uuid::Uuid::new_v4().simple()),
    };
    let mut env = Vec::new();
    if let Some(file) = config_file {
        env.push(("RAPPORT_CONFIG".to_owned(), file.display().to_string()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_ports_sit_above_the_listen_port() {
        let addrs = addrs_from("127.0.0.1:50051".parse().unwrap()).unwrap();
        let port = |name: &str| addrs[SERVICES.iter().position(|s| *s == name).unwrap()].port();
        assert_eq!(
            [
                port("profiles"),
                port("ingestion"),
                port("scoring"),
                port("notifications")
            ],
            [50061, 50062, 50063, 50064]
        );
        assert!(addrs_from("127.0.0.1:65530".parse().unwrap()).is_err());
    }

    #[test]
    fn every_peer_a_service_needs_is_a_service() {
        for s in SERVICES {
            for p in peers_of(s) {
                assert!(SERVICES.contains(p), "{s} needs unknown {p}");
            }
        }
        assert_eq!(peers_of("ingestion"), ["profiles", "scoring"]);
    }
}
