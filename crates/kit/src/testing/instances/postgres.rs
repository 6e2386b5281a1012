//! A private Postgres server.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use super::{Options, Owner, Proc, wait_ready};

/// A private Postgres server (superuser `postgres`, trust authentication) on
/// 127.0.0.1.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    owner: Owner,
    proc: Proc,
}

impl Postgres {
    /// [`Postgres::start`] on a blocking thread, for an async test.
    pub async fn spawn(options: Options) -> Postgres {
        tokio::task::spawn_blocking(move || Postgres::start(options))
            .await
            .expect("start postgres")
    }

    /// Creates a cluster with `initdb` and starts it.
    pub fn start(options: Options) -> Postgres {
        let bin = pg_bindir();
        let owner = Owner::for_postgres();
        let dir = crate::testing::fresh_dir();
        owner.chown(&dir);
        let data = dir.join("data");
        let mut initdb = owner.command(bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        crate::testing::run_ok(&mut initdb);
        let port = crate::testing::free_port();
        let defaults = [
            "listen_addresses = '127.0.0.1'".to_owned(),
            format!("port = {port}"),
            "unix_socket_directories = ''".to_owned(),
            // A killed process loses nothing the kernel has; only a machine
            // crash would, and no test crashes the machine.
            "fsync = off".to_owned(),
            "shared_buffers = 16MB".to_owned(),
        ];
        options.install(&defaults, &data.join("postgresql.conf"), &data, port, owner);
        let mut this = Postgres {
            dir,
            bin,
            port,
            owner,
            proc: Proc(None),
        };
        this.run();
        this
    }

    fn run(&mut self) {
        let data = self.data_dir();
        let mut cmd = self.owner.command(self.bin.join("postgres"));
        cmd.arg("-D").arg(&data);
        let log = self.dir.join("postgres.log");
        self.proc = Proc::spawn(cmd, &log);
        let (isready, port) = (self.bin.join("pg_isready"), self.port.to_string());
        wait_ready("postgres", &mut self.proc, &log, || {
            Command::new(&isready)
                .args(["-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
                .status()
                .is_ok_and(|s| s.success())
        });
    }

    /// A hot standby of this server on a port of its own, made with
    /// `pg_basebackup -R` and kept current by streaming replication.
    pub fn replica(&self) -> Postgres {
        let dir = crate::testing::fresh_dir();
        self.owner.chown(&dir);
        let data = dir.join("data");
        let mut backup = self.owner.command(self.bin.join("pg_basebackup"));
        backup
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .arg("-D")
            .arg(&data)
            .args(["-R", "-X", "stream", "--no-sync"]);
        crate::testing::run_ok(&mut backup);
        let port = crate::testing::free_port();
        // The copied configuration names the primary's port; this line wins.
        Options::default().install(
            &[format!("port = {port}")],
            &data.join("postgresql.conf"),
            &data,
            port,
            self.owner,
        );
        let mut replica = Postgres {
            dir,
            bin: self.bin.clone(),
            port,
            owner: self.owner,
            proc: Proc(None),
        };
        replica.run();
        replica
    }

    /// Runs `sql` (one text value or none) on its `postgres` database.
    async fn scalar(&self, sql: &str) -> String {
        let pool = sqlx::PgPool::connect(&self.url()).await.expect("connect");
        let value: Option<String> = sqlx::query_scalar(sql)
            .fetch_one(&pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        pool.close().await;
        value.unwrap_or_default()
    }

    /// On a [`replica`](Self::replica): stops replaying the primary's
    /// changes, and waits until replay has stopped.
    pub async fn pause_replay(&self) {
        self.scalar("SELECT pg_wal_replay_pause()::text").await;
        for _ in 0..200 {
            if self.scalar("SELECT pg_get_wal_replay_pause_state()").await == "paused" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("replay never paused");
    }

    /// On a [`replica`](Self::replica): replays the primary's changes again.
    pub async fn resume_replay(&self) {
        self.scalar("SELECT pg_wal_replay_resume()::text").await;
    }

    /// A private primary and a streaming [`replica`](Self::replica) of it,
    /// for an async test.
    pub async fn with_replica() -> (Postgres, Postgres) {
        tokio::task::spawn_blocking(|| {
            let primary = Postgres::start(Options::default());
            let replica = primary.replica();
            (primary, replica)
        })
        .await
        .expect("start a primary and its replica")
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// The URL of database `name` on it.
    pub fn url_of(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its data directory (where the [`Options::files`] are).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Whether it is running.
    pub fn is_running(&mut self) -> bool {
        self.proc.running()
    }

    /// Kills the server and every backend with SIGKILL, as a crash would:
    /// the next start runs crash recovery.
    pub fn kill9(&mut self) {
        self.proc.kill9();
    }

    /// Stops it cleanly (fast shutdown: open sessions are ended).
    pub fn stop(&mut self) {
        self.proc.stop("-INT");
    }

    /// Starts it again on the same data directory and port, stopping it
    /// cleanly first if it runs.
    pub fn restart(&mut self) {
        if self.proc.running() {
            self.stop();
        }
        self.run();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.proc.kill9();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where the Postgres server binaries are: `pg_config --bindir`, else the
/// newest `/usr/lib/postgresql/*/bin`, else the `PATH`.
fn pg_bindir() -> PathBuf {
    let has_server = |dir: &Path| dir.join("postgres").is_file() && dir.join("initdb").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return dir;
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir).unwrap_or_default()
}
