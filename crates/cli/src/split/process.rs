//! The four service processes: started each with its address, its peers'
//! addresses and the shared credential; watched until ready; stopped with a
//! grace period.

use std::{net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};

use anyhow::Context;
use tokio::process::{Child, Command};

use super::service::{SERVICES, peers_of};

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
        let mut split = Split {
            services: Vec::new(),
        };
        for i in 0..SERVICES.len() {
            match spawn(opts, i) {
                Ok(s) => split.services.push(s),
                Err(e) => {
                    split.stop(Duration::from_secs(5)).await;
                    return Err(e);
                }
            }
        }
        Ok(split)
    }

    /// Kills `name` with SIGKILL, as a crash would, and waits for it.
    pub async fn kill9(&mut self, name: &str) -> anyhow::Result<()> {
        let s = self.service_mut(name)?;
        s.child.kill().await.context("killing")?;
        Ok(())
    }

    /// Starts `name` again as [`Split::start`] did (after it exited or was
    /// killed); does not wait for it to be ready.
    pub fn restart(&mut self, opts: &SplitOptions, name: &str) -> anyhow::Result<()> {
        let i = SERVICES
            .iter()
            .position(|s| *s == name)
            .with_context(|| format!("no service {name}"))?;
        *self.service_mut(name)? = spawn(opts, i)?;
        Ok(())
    }

    /// Starts one more process of service `name` at `addr` that runs only
    /// `roles` (`RAPPORT_ROLES`), beside the four: a worker tier of its
    /// own, as the production overlay's worker Deployments run it. Does not
    /// wait for it to be ready ([`Split::wait_ready`] does).
    pub fn add_process(
        &mut self,
        opts: &SplitOptions,
        name: &str,
        roles: &str,
        addr: SocketAddr,
    ) -> anyhow::Result<&ServiceProcess> {
        let name = SERVICES
            .into_iter()
            .find(|s| *s == name)
            .with_context(|| format!("no service {name}"))?;
        let process = spawn_at(opts, name, addr, &[("RAPPORT_ROLES", roles)])?;
        self.services.push(process);
        Ok(&self.services[self.services.len() - 1])
    }

    fn service_mut(&mut self, name: &str) -> anyhow::Result<&mut ServiceProcess> {
        self.services
            .iter_mut()
            .find(|s| s.name == name)
            .with_context(|| format!("no service {name}"))
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

/// The metrics address, one per process: the configured port plus 0 for
/// profiles, 1 for ingestion, 2 for scoring and 3 for notifications (the
/// order of their gRPC ports).
pub(super) const METRICS_VAR: &str = "RAPPORT_METRICS_LISTEN";

/// Where service `name` serves its metrics, when the processes'
/// environment sets an address.
fn metrics_addr(opts: &SplitOptions, name: &str) -> Option<SocketAddr> {
    let set = opts.env.iter().rev().find(|(k, _)| k == METRICS_VAR);
    let raw = set
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var(METRICS_VAR).ok())?;
    let base: SocketAddr = raw.trim().parse().ok()?;
    let offset = match name {
        "profiles" => 0,
        "ingestion" => 1,
        "scoring" => 2,
        _ => 3,
    };
    Some(SocketAddr::new(base.ip(), base.port().checked_add(offset)?))
}

/// Starts service `i` of [`SERVICES`] with its address, its peers'
/// addresses and the shared credential.
fn spawn(opts: &SplitOptions, i: usize) -> anyhow::Result<ServiceProcess> {
    spawn_at(opts, SERVICES[i], opts.addrs[i], &[])
}

/// Starts a process of service `name` listening on `addr`, with its peers'
/// addresses, the shared credential and `extra` variables; its output goes
/// to `<log_dir>/<name>.log`, after any other process of the service.
fn spawn_at(
    opts: &SplitOptions,
    name: &'static str,
    addr: SocketAddr,
    extra: &[(&str, &str)],
) -> anyhow::Result<ServiceProcess> {
    let url_of = |peer: &str| {
        let j = SERVICES.iter().position(|s| *s == peer).unwrap_or(0);
        format!("http://{}", opts.addrs[j])
    };
    let mut cmd = Command::new(&opts.rapport_bin);
    cmd.arg("serve")
        .arg(name)
        .envs(opts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(extra.iter().copied())
        .env("RAPPORT_LISTEN", addr.to_string())
        .env("RAPPORT_INTERNAL_TOKEN", &opts.internal_token)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for peer in peers_of(name) {
        cmd.env(peer_var(peer), url_of(peer));
    }
    match metrics_addr(opts, name) {
        // A process added beside the four serves no metrics: the port
        // scheme has one per service.
        Some(_) if !extra.is_empty() => {
            cmd.env_remove(METRICS_VAR);
        }
        Some(metrics) => {
            cmd.env(METRICS_VAR, metrics.to_string());
        }
        None => {}
    }
    if let Some(dir) = &opts.log_dir {
        // Appended to, so a restarted process's log follows its last one.
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(dir.join(format!("{name}.log")))
            .with_context(|| format!("creating the {name} log"))?;
        cmd.stdout(log.try_clone()?).stderr(log);
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("starting rapport serve {name}"))?;
    Ok(ServiceProcess { name, addr, child })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_process_serves_metrics_on_a_port_of_its_own() {
        let opts = SplitOptions {
            rapport_bin: PathBuf::from("rapport"),
            addrs: [SocketAddr::from(([127, 0, 0, 1], 50061)); 4],
            env: vec![(METRICS_VAR.to_owned(), "0.0.0.0:9464".to_owned())],
            internal_token: String::new(),
            log_dir: None,
        };
        let ports: Vec<u16> = ["profiles", "ingestion", "scoring", "notifications"]
            .iter()
            .map(|s| metrics_addr(&opts, s).expect("an address").port())
            .collect();
        assert_eq!(ports, [9464, 9465, 9466, 9467]);
    }
}
