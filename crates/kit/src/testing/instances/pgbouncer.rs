//! A private PgBouncer in transaction mode in front of a test database.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use super::{Owner, Proc, wait_ready};

/// The oldest PgBouncer that keeps prepared statements apart in transaction
/// mode (`max_prepared_statements`), which sqlx's named statements need.
const OLDEST: (u32, u32) = (1, 21);

/// PgBouncer on 127.0.0.1 in transaction pooling mode, with one pooler
/// database per service schema, `rapport_<schema>`, whose `connect_query`
/// sets the schema: the shape `docs/scaling.md` describes for production.
pub struct PgBouncer {
    dir: PathBuf,
    port: u16,
    url: String,
    proc: Proc,
}

impl PgBouncer {
    /// [`PgBouncer::start`] on a blocking thread, for an async test.
    pub async fn spawn(database_url: String, schemas: Vec<&'static str>) -> PgBouncer {
        tokio::task::spawn_blocking(move || PgBouncer::start(&database_url, &schemas))
            .await
            .expect("start pgbouncer")
    }

    /// Starts PgBouncer in front of the database at `database_url` (a
    /// `postgres://user@host:port/database` on a server with trust
    /// authentication), with a pooler database for each of `schemas`.
    pub fn start(database_url: &str, schemas: &[&str]) -> PgBouncer {
        let upstream: sqlx::postgres::PgConnectOptions =
            database_url.parse().expect("a postgres URL");
        let bin = binary();
        // PgBouncer refuses to run as root.
        let owner = Owner::for_postgres();
        let dir = crate::testing::fresh_dir();
        owner.chown(&dir);
        let listen = crate::testing::free_port();
        let users = dir.join("users.txt");
        let ini = crate::db::pgbouncer::local_ini(&upstream, schemas, listen, &users);
        std::fs::write(&users, crate::db::pgbouncer::local_users(&upstream))
            .expect("write users.txt");
        let conf = dir.join("pgbouncer.ini");
        std::fs::write(&conf, ini).expect("write pgbouncer.ini");
        owner.chown(&users);
        owner.chown(&conf);
        let log = dir.join("pgbouncer.log");
        let mut cmd = owner.command(&bin);
        cmd.arg(&conf);
        let mut proc = Proc::spawn(cmd, &log);
        wait_ready("pgbouncer", &mut proc, &log, || {
            std::net::TcpStream::connect(("127.0.0.1", listen)).is_ok()
        });
        PgBouncer {
            dir,
            port: listen,
            url: crate::db::pgbouncer::local_url(&upstream, listen),
            proc,
        }
    }

    /// The `database_url` a service uses to reach its schema through this
    /// PgBouncer: `postgres://…/rapport_{schema}`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Transactions PgBouncer has carried per pooler database so far (its
    /// admin console's `SHOW STATS`, read with `psql`).
    pub fn transactions(&self) -> Vec<(String, i64)> {
        let out = crate::testing::run_ok(Command::new("psql").args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            "pgbouncer",
            "-A",
            "-F",
            "\t",
            "-c",
            "SHOW STATS",
        ]));
        let mut lines = out.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|c| *c == name)
                .unwrap_or_else(|| panic!("SHOW STATS has no {name}: {out}"))
        };
        let (db, xacts) = (column("database"), column("total_xact_count"));
        lines
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('\t').collect();
                Some((cells.get(db)?.to_string(), cells.get(xacts)?.parse().ok()?))
            })
            .collect()
    }

    /// PgBouncer's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        self.proc.stop("-INT");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The PgBouncer to run: `RAPPORT_PGBOUNCER`, else the one `scripts/pgbouncer`
/// builds under `target/tools`, else `pgbouncer` on the `PATH`. Fails, naming
/// the script, when there is none or it is older than 1.21.
fn binary() -> PathBuf {
    let built =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/pgbouncer/bin/pgbouncer");
    let bin = match std::env::var_os("RAPPORT_PGBOUNCER") {
        Some(path) => PathBuf::from(path),
        None if built.exists() => built,
        None => PathBuf::from("pgbouncer"),
    };
    let out = Command::new(&bin).arg("--version").output();
    let version = match &out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => panic!(
            "no PgBouncer at {bin:?}: run scripts/pgbouncer (it builds 1.24 into target/tools), \
             or set RAPPORT_PGBOUNCER"
        ),
    };
    let parsed = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| {
            let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
            Some((parts.next()??, parts.next()??))
        })
        .unwrap_or_else(|| panic!("{bin:?} --version printed {version:?}"));
    assert!(
        parsed >= OLDEST,
        "{bin:?} is PgBouncer {}.{}; Rapport's prepared statements need 1.21 or later in \
         transaction mode: run scripts/pgbouncer",
        parsed.0,
        parsed.1
    );
    bin
}
