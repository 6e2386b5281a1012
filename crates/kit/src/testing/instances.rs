//! Private Postgres and Redis processes for tests that kill, restart or
//! reconfigure their engine: each runs in its own temp directory on a free
//! port and is killed (and its directory removed) on drop.
//!
//! The calls block (starting takes about a second), so call them before the
//! servers under test start or from `spawn_blocking`; `spawn` starts one
//! that way.

use std::{
    fs::File,
    os::unix::{fs::PermissionsExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// Extra configuration for an instance.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Lines added to the engine's configuration file (`postgresql.conf` or
    /// `redis.conf`) after the defaults, so they win. `{port}` in a line is
    /// replaced by the instance's port and `{dir}` by the directory holding
    /// the [`files`](Self::files).
    pub config: Vec<String>,
    /// Files copied into that directory before the first start, owned by the
    /// engine's user and readable only by it (as Postgres wants a TLS key).
    pub files: Vec<PathBuf>,
}

impl Options {
    /// Adds a configuration line.
    pub fn line(mut self, line: impl Into<String>) -> Self {
        self.config.push(line.into());
        self
    }

    /// Adds a file to copy into the instance's directory.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// Writes the defaults, then the lines, to `conf` (appending); copies the
    /// files into `dir`.
    fn install(&self, defaults: &[String], conf: &Path, dir: &Path, port: u16, owner: Owner) {
        use std::io::Write;
        for file in &self.files {
            let name = file.file_name().expect("a file name");
            let to = dir.join(name);
            std::fs::copy(file, &to).unwrap_or_else(|e| panic!("copy {file:?}: {e}"));
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
                .expect("file mode");
            owner.chown(&to);
        }
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(conf)
            .expect("open the configuration file");
        for line in defaults.iter().chain(&self.config) {
            let line = line
                .replace("{port}", &port.to_string())
                .replace("{dir}", &dir.display().to_string());
            writeln!(out, "{line}").expect("write the configuration file");
        }
        drop(out);
        owner.chown(conf);
    }
}

/// The OS user an engine runs as: this process's own, or `postgres` when
/// this process is root (initdb refuses to run as root).
#[derive(Debug, Clone, Copy)]
struct Owner(Option<(u32, u32)>);

impl Owner {
    fn for_postgres() -> Owner {
        if id(&["-u"]) != 0 {
            return Owner(None);
        }
        Owner(Some((id(&["-u", "postgres"]), id(&["-g", "postgres"]))))
    }

    fn chown(self, path: &Path) {
        if let Some((uid, gid)) = self.0 {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("chown {path:?}: {e}"));
        }
    }

    fn command(self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        if let Some((uid, gid)) = self.0 {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }
}

/// `id ARGS` as a number.
fn id(args: &[&str]) -> u32 {
    let out = super::run_ok(Command::new("id").args(args));
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("id {args:?} printed {out:?}"))
}

/// A running engine process, leader of its own process group so that
/// [`Proc::kill9`] takes its children with it, as a crash would.
struct Proc(Option<Child>);

impl Proc {
    fn spawn(mut cmd: Command, log: &Path) -> Proc {
        let log = File::options()
            .create(true)
            .append(true)
            .open(log)
            .expect("open the log");
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0);
        Proc(Some(
            cmd.spawn().unwrap_or_else(|e| panic!("start {cmd:?}: {e}")),
        ))
    }

    fn running(&mut self) -> bool {
        match &mut self.0 {
            Some(child) => child.try_wait().expect("wait").is_none(),
            None => false,
        }
    }

    fn signal(&self, sig: &str) {
        if let Some(child) = &self.0 {
            // To the whole group: the engine and every process it forked.
            let _ = Command::new("kill")
                .args([sig, "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
        }
    }

    fn kill9(&mut self) {
        self.signal("-KILL");
        if let Some(mut child) = self.0.take() {
            let _ = child.wait();
        }
    }

    /// Asks for a clean exit with `sig`; kills it if it takes over 30 s.
    fn stop(&mut self, sig: &str) {
        self.signal(sig);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill9();
    }
}

/// Waits up to 60 s for `ready`, failing with the log if the process exits
/// or the time runs out.
fn wait_ready(what: &str, proc: &mut Proc, log: &Path, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if ready() {
            return;
        }
        let log = || std::fs::read_to_string(log).unwrap_or_default();
        assert!(proc.running(), "{what} exited while starting:\n{}", log());
        assert!(
            Instant::now() < deadline,
            "{what} never became ready:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}
mod pgbouncer;
mod postgres;
mod redis;
#[cfg(test)]
mod tests;

pub use pgbouncer::PgBouncer;
pub use postgres::Postgres;
pub use redis::{Redis, RedisCluster};
