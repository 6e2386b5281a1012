//! The `rapport` binary as the CLI tests run it: a clean environment over a
//! data directory of the test's own, a tenant made with `rapport tenant
//! create`, and `rapport up` stopped however the test ends.

#![allow(dead_code)] // each test file uses its own part

use std::{
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    time::Duration,
};

use rapport_kit::testing::run_ok;

pub const BIN: &str = env!("CARGO_BIN_EXE_rapport");

/// `rapport` with nothing from the caller's environment but `PATH`, keeping
/// its state in `data_dir`.
pub fn rapport(data_dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RAPPORT_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn");
    cmd
}

/// Creates tenant `name` (in euros) with `rapport tenant create` in
/// `data_dir` and returns the API key it prints once.
pub fn tenant_key(data_dir: &Path, name: &str) -> String {
    let out = run_ok(rapport(data_dir).args(["tenant", "create", name, "--currency", "EUR"]));
    out.lines()
        .find_map(|l| l.split("shown once, store it now): ").nth(1))
        .expect("key printed")
        .trim()
        .to_owned()
}

/// `rapport up` (as `cmd` spawns it, its output dropped), killed when
/// dropped.
pub struct Up(Child);

impl Up {
    pub fn spawn(cmd: &mut Command) -> Up {
        Up(cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rapport up starts"))
    }

    /// `rapport up` on `port` of localhost over plaintext, once serving.
    pub async fn serving(data_dir: &Path, port: u16) -> Up {
        let mut command = rapport(data_dir);
        command.args(["up", "--listen", &format!("127.0.0.1:{port}")]);
        // Report runs only when a test starts one: a scheduled run would
        // race the runs the tests count.
        command.env("RAPPORT_REPORTS__INTERVAL_HOURS", "0");
        let up = Up::spawn(&mut command);
        rapport::client::wait_serving(&format!("http://127.0.0.1:{port}"), Duration::from_secs(60))
            .await
            .expect("rapport up SERVING");
        up
    }

    /// Stops it with SIGTERM and returns how it exited (within 30 s).
    pub async fn stop(mut self) -> ExitStatus {
        let pid = self.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        for _ in 0..300 {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("rapport up did not exit after SIGTERM");
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
