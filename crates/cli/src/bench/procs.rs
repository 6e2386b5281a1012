//! The processes of the suite under test: `rapport up`, or the four
//! services each as `rapport serve <service>`; started, stopped and measured.

use std::{net::SocketAddr, path::Path, process::Stdio, time::Duration};

use anyhow::Context;
use tokio::process::{Child, Command};

use crate::split::{self, Split, SplitOptions};

/// What runs.
pub enum Procs {
    /// `rapport up`.
    One(Child),
    /// The four services.
    Split(Split),
    /// Nothing.
    Stopped,
}

/// How to start them.
pub struct Launch<'a> {
    /// The `rapport` binary.
    pub rapport_bin: &'a Path,
    /// Each service's address (in one process, all are scoring's).
    pub addrs: [SocketAddr; 4],
    /// Variables every process gets on top of this one's environment.
    pub env: Vec<(String, String)>,
    /// The credential services call each other with.
    pub internal_token: &'a str,
    /// Where each process's output goes.
    pub logs: &'a Path,
}

impl Procs {
    /// Starts `rapport up` on scoring's address and waits until it serves.
    pub async fn one(launch: Launch<'_>) -> anyhow::Result<Procs> {
        let log = std::fs::File::create(launch.logs.join("rapport.log"))?;
        let mut cmd = Command::new(launch.rapport_bin);
        for var in ["DATABASE_URL", "REDIS_URL", "RAPPORT_CONFIG"] {
            cmd.env_remove(var);
        }
        cmd.arg("up")
            .arg("--listen")
            .arg(launch.addrs[2].to_string())
            .envs(launch.env)
            .env("RAPPORT_INTERNAL_TOKEN", launch.internal_token)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", launch.rapport_bin.display()))?;
        let mut procs = Procs::One(child);
        let url = format!("http://{}", launch.addrs[2]);
        let ready = crate::client::wait_serving(&url, Duration::from_secs(120));
        if let Err(e) = ready.await {
            let _ = procs.stop().await;
            return Err(e).context(format!("see {}", launch.logs.display()));
        }
        Ok(procs)
    }

    /// Starts the four services and waits until every one serves.
    pub async fn split(launch: Launch<'_>) -> anyhow::Result<Procs> {
        let opts = SplitOptions {
            rapport_bin: launch.rapport_bin.to_owned(),
            addrs: launch.addrs,
            env: launch.env,
            internal_token: launch.internal_token.to_owned(),
            log_dir: Some(launch.logs.to_owned()),
        };
        let mut s = Split::start(&opts).await?;
        if let Err(e) = s.wait_ready(Duration::from_secs(120)).await {
            s.stop(Duration::from_secs(10)).await;
            return Err(e).context(format!("see {}", launch.logs.display()));
        }
        Ok(Procs::Split(s))
    }

    /// Resident memory of each process: ("rapport", bytes) in one process,
    /// one entry per service when split.
    pub fn rss(&self) -> Vec<(String, u64)> {
        let read = |pid: Option<u32>| pid.and_then(rss_of);
        match self {
            Procs::One(child) => read(child.id())
                .map(|b| vec![("rapport".to_owned(), b)])
                .unwrap_or_default(),
            Procs::Split(s) => s
                .services
                .iter()
                .filter_map(|p| read(p.pid()).map(|b| (p.name.to_owned(), b)))
                .collect(),
            Procs::Stopped => Vec::new(),
        }
    }

    /// Each process's id: ("rapport", pid) in one process, one entry per
    /// service when split.
    pub fn pids(&self) -> Vec<(String, u32)> {
        match self {
            Procs::One(child) => child
                .id()
                .map(|pid| vec![("rapport".to_owned(), pid)])
                .unwrap_or_default(),
            Procs::Split(s) => s
                .services
                .iter()
                .filter_map(|p| Some((p.name.to_owned(), p.pid()?)))
                .collect(),
            Procs::Stopped => Vec::new(),
        }
    }

    /// Stops what runs (SIGTERM, then a kill after 30 s) and leaves it `Stopped`.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        match std::mem::replace(self, Procs::Stopped) {
            Procs::One(mut child) => {
                if let Some(pid) = child.id() {
                    split::terminate(pid);
                }
                if tokio::time::timeout(Duration::from_secs(30), child.wait())
                    .await
                    .is_err()
                {
                    child.kill().await?;
                }
            }
            Procs::Split(mut s) => s.stop(Duration::from_secs(30)).await,
            Procs::Stopped => {}
        }
        Ok(())
    }
}

/// VmRSS of a process, in bytes (Linux).
pub fn rss_of(pid: u32) -> Option<u64> {
    status_kb(pid, "VmRSS")
}

/// A field of /proc/PID/status given in kB (VmRSS, VmHWM), in bytes (Linux).
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
