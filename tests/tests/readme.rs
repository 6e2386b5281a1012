//! The README's production shape, run as written: its shell block starts the
//! four service binaries with the settings it gives, and a customer's
//! purchase must come back as a score. Only what a test must own is
//! replaced: the ports (free ones), the database (a fresh one) and Redis
//! (the test server); the cache gets a key prefix of its own. So the README
//! cannot drift from what the binaries need.
//!
//! The binaries are the ones `cargo test --workspace` builds beside this
//! test.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use rapport_kit::testing::{free_port, run_ok};

const SECTION: &str = "### One service per process (the production shape)";
/// The ports the README gives, in order: profiles, ingestion, scoring,
/// notifications.
const PORTS: [u16; 4] = [50061, 50062, 50063, 50064];
const BINARIES: [&str; 5] = [
    "rapport",
    "rapport-profiles",
    "rapport-ingestion",
    "rapport-scoring",
    "rapport-notifications",
];

/// The first `sh` block after `heading`.
fn shell_block(readme: &str, heading: &str) -> String {
    let start = readme.find(heading).unwrap_or_else(|| {
        panic!("the README has no {heading:?} section");
    });
    let rest = &readme[start..];
    let open = rest.find("```sh\n").expect("a sh block in the section") + "```sh\n".len();
    let close = rest[open..].find("```").expect("the block is closed");
    rest[open..open + close].to_owned()
}

/// Where cargo put this workspace's binaries (beside `deps/`, which holds
/// this test).
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    for bin in BINARIES {
        assert!(
            dir.join(bin).exists(),
            "{} is missing: run the tests with `cargo test --workspace`, which builds every binary",
            dir.join(bin).display()
        );
    }
    dir
}

/// The shell running the block and everything it started, stopped together.
struct Shell(Child);

impl Drop for Shell {
    fn drop(&mut self) {
        let group = rustix::process::Pid::from_raw(self.0.id() as i32).expect("a pid");
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::TERM);
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_readme_production_shape_serves_scores() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let mut block = shell_block(&readme, SECTION);
    let database = rapport_kit::testing::fresh_postgres().await;
    let redis = rapport_kit::testing::redis_url();
    for (from, to) in [
        (
            "postgres://postgres@127.0.0.1:5432/rapport",
            database.as_str(),
        ),
        ("redis://127.0.0.1:6379", redis.as_str()),
    ] {
        assert!(block.contains(from), "the block sets {from}: {block}");
        block = block.replace(from, to);
    }
    let ports: Vec<u16> = PORTS.iter().map(|_| free_port()).collect();
    for (from, to) in PORTS.iter().zip(&ports) {
        assert!(block.contains(&from.to_string()), "port {from} in {block}");
        block = block.replace(&from.to_string(), &to.to_string());
    }
    let bins = bin_dir();
    let path = format!(
        "{}:{}",
        bins.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let logs = rapport_kit::testing::fresh_dir();
    let log = |name: &str| std::fs::File::create(logs.join(name)).expect("log file");
    let prefix = format!("readme{}", uuid::Uuid::new_v4().simple());
    use std::os::unix::process::CommandExt;
    let child = Command::new("bash")
        .arg("-c")
        // The block puts the services in the background; the shell waits for
        // them so that stopping its process group stops them all.
        .arg(format!("set -e\n{block}\nwait\n"))
        .env("PATH", &path)
        .env("RAPPORT_CACHE_PREFIX", &prefix)
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(log("stdout.log"))
        .stderr(log("stderr.log"))
        .spawn()
        .expect("bash");
    let _shell = Shell(child);
    let url = |i: usize| format!("http://127.0.0.1:{}", ports[i]);
    for i in 0..4 {
        if let Err(e) = rapport::client::wait_serving(&url(i), Duration::from_secs(120)).await {
            panic!(
                "{e:#}\nservices' output:\n{}",
                std::fs::read_to_string(logs.join("stderr.log")).unwrap_or_default()
            );
        }
    }

    // A tenant, as the README's all-in-one section creates one.
    let stdout = run_ok(
        Command::new(bins.join("rapport"))
            .args(["tenant", "create", "readme", "--currency", "EUR"])
            .env("DATABASE_URL", &database)
            .env("RUST_LOG", "warn"),
    );
    let key = stdout
        .lines()
        .find(|l| l.starts_with("api key"))
        .and_then(|l| l.split_whitespace().last())
        .expect("the key is printed")
        .to_owned();

    let mut clients =
        rapport::client::Clients::connect_each(&url(0), &url(1), &url(2), &url(3), &key)
            .expect("clients");
    // The relay delivers in the background: poll the score, as a caller would.
    let purchase = rapport_tests::purchase("R-1", "C-README", 1, 4_200);
    let within = Duration::from_secs(60);
    let Some(s) = rapport_tests::first_purchase_scored(&mut clients, purchase, within).await else {
        panic!(
            "the purchase never reached the score; services' output:\n{}",
            std::fs::read_to_string(logs.join("stderr.log")).unwrap_or_default()
        );
    };
    assert_eq!(s.purchase_total.map(|m| m.minor_units), Some(4_200));
    let _ = std::fs::remove_dir_all(&logs);
}
