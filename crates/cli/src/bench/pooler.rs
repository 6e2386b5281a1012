//! `--pgbouncer`: the services reach the run's database through a PgBouncer
//! in transaction mode that the benchmark starts, as they would in
//! production (`docs/scaling.md`); the benchmark's own baseline queries stay
//! direct.

use std::{
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;
use rapport_kit::db::pgbouncer;
use sqlx::postgres::PgConnectOptions;

/// A running PgBouncer, stopped when dropped.
pub struct Pooler {
    child: Child,
    url: String,
}

impl Pooler {
    /// Starts `bin` in front of `database_url` with its files in `dir`.
    pub fn start(bin: &Path, database_url: &str, dir: &Path) -> anyhow::Result<Pooler> {
        let upstream: PgConnectOptions = database_url.parse()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = dir.join("pgbouncer");
        std::fs::create_dir_all(&dir)?;
        let users = dir.join("users.txt");
        std::fs::write(&users, pgbouncer::local_users(&upstream))?;
        let conf = dir.join("pgbouncer.ini");
        std::fs::write(
            &conf,
            pgbouncer::local_ini(&upstream, &crate::suite::SCHEMAS, port, &users),
        )?;
        let log = std::fs::File::create(dir.join("pgbouncer.log"))?;
        let mut cmd = Command::new(bin);
        cmd.arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // PgBouncer refuses to run as root: run it as `postgres` then.
        if id(&["-u"])? == 0 {
            let (uid, gid) = (id(&["-u", "postgres"])?, id(&["-g", "postgres"])?);
            for f in [&dir, &users, &conf] {
                std::os::unix::fs::chown(f, Some(uid), Some(gid))?;
            }
            std::os::unix::fs::chown(dir.join("pgbouncer.log"), Some(uid), Some(gid))?;
            cmd.uid(uid).gid(gid);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if child.try_wait()?.is_some() || Instant::now() > deadline {
                let _ = child.kill();
                anyhow::bail!(
                    "PgBouncer did not start: see {}",
                    dir.join("pgbouncer.log").display()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Ok(Pooler {
            child,
            url: pgbouncer::local_url(&upstream, port),
        })
    }

    /// The services' `database_url`: `…/rapport_{schema}` on PgBouncer.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Pooler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn id(args: &[&str]) -> anyhow::Result<u32> {
    let out = Command::new("id").args(args).output()?;
    anyhow::ensure!(out.status.success(), "id {args:?} failed");
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}
