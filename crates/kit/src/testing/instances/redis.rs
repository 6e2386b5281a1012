//! A private Redis server.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use super::{Options, Owner, Proc, wait_ready};

/// A private Redis server on 127.0.0.1, keeping nothing on disk.
pub struct Redis {
    dir: PathBuf,
    port: u16,
    proc: Proc,
}

impl Redis {
    /// [`Redis::start`] on a blocking thread, for an async test.
    pub async fn spawn(options: Options) -> Redis {
        tokio::task::spawn_blocking(move || Redis::start(options))
            .await
            .expect("start redis")
    }

    /// Starts `redis-server`.
    pub fn start(options: Options) -> Redis {
        let dir = crate::testing::fresh_dir();
        let port = crate::testing::free_port();
        let defaults = [
            "bind 127.0.0.1".to_owned(),
            format!("port {port}"),
            format!("dir {}", dir.display()),
            "save \"\"".to_owned(),
            "appendonly no".to_owned(),
        ];
        let conf = dir.join("redis.conf");
        options.install(&defaults, &conf, &dir, port, Owner(None));
        let mut this = Redis {
            dir,
            port,
            proc: Proc(None),
        };
        this.run();
        this
    }

    fn run(&mut self) {
        let mut cmd = Command::new("redis-server");
        cmd.arg(self.dir.join("redis.conf"));
        let log = self.dir.join("redis.log");
        self.proc = Proc::spawn(cmd, &log);
        let port = self.port;
        // Listening means loaded: there is no data to load.
        wait_ready("redis", &mut self.proc, &log, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// Its `redis://` URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding its configuration and the [`Options::files`].
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether it is running.
    pub fn is_running(&mut self) -> bool {
        self.proc.running()
    }

    /// Kills it with SIGKILL: everything it held is gone.
    pub fn kill9(&mut self) {
        self.proc.kill9();
    }

    /// Stops it cleanly.
    pub fn stop(&mut self) {
        self.proc.stop("-TERM");
    }

    /// Starts it again, empty, on the same port, stopping it first if it
    /// runs.
    pub fn restart(&mut self) {
        if self.proc.running() {
            self.stop();
        }
        self.run();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.proc.kill9();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
