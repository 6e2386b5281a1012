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

/// A private Redis Cluster on 127.0.0.1: three masters, each with a
/// replica, made with `redis-cli --cluster create`; a master that dies is
/// replaced by its replica within about a second (`cluster-node-timeout`).
pub struct RedisCluster {
    nodes: Vec<Redis>,
}

impl RedisCluster {
    /// [`RedisCluster::start`] on a blocking thread, for an async test.
    pub async fn spawn() -> RedisCluster {
        tokio::task::spawn_blocking(RedisCluster::start)
            .await
            .expect("start the redis cluster")
    }

    /// Starts six nodes and joins them into a cluster; waits until every
    /// slot is served.
    pub fn start() -> RedisCluster {
        let nodes: Vec<Redis> = (0..6)
            .map(|_| {
                // The bus port is set, since port + 10000 may not exist.
                let bus = crate::testing::free_port();
                Redis::start(
                    Options::default()
                        .line("cluster-enabled yes")
                        .line("cluster-config-file {dir}/nodes.conf")
                        .line("cluster-node-timeout 1000")
                        .line(format!("cluster-port {bus}"))
                        .line("cluster-require-full-coverage no")
                        // Replicas copy their master at once, so a failover
                        // can follow soon after the cluster is made.
                        .line("repl-diskless-sync-delay 0"),
                )
            })
            .collect();
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for n in &nodes {
            create.arg(format!("127.0.0.1:{}", n.port));
        }
        create.args(["--cluster-replicas", "1", "--cluster-yes"]);
        crate::testing::run_ok(&mut create);
        let mut cluster = RedisCluster { nodes };
        cluster.wait_ok();
        // A replica that never finished its first copy will not take over.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        for port in cluster.masters() {
            while !cluster
                .cli(port, &["info", "replication"])
                .contains("state=online")
            {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the replica of {port} never caught up"
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        cluster
    }

    /// The cluster's URL as Rapport takes it: every node a seed.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    /// `redis-cli -p PORT ARGS` on a running node.
    fn cli(&self, port: u16, args: &[&str]) -> String {
        crate::testing::run_ok(
            Command::new("redis-cli")
                .arg("-p")
                .arg(port.to_string())
                .args(args),
        )
    }

    fn live_ports(&mut self) -> Vec<u16> {
        self.nodes
            .iter_mut()
            .filter_map(|n| n.is_running().then_some(n.port))
            .collect()
    }

    /// The ports of the masters serving slots now, as a live node sees it.
    pub fn masters(&mut self) -> Vec<u16> {
        let port = self.live_ports()[0];
        let nodes = self.cli(port, &["cluster", "nodes"]);
        nodes
            .lines()
            .filter(|l| l.contains("master") && !l.contains("fail") && l.split(' ').count() > 8)
            .filter_map(|l| {
                let addr = l.split(' ').nth(1)?;
                addr.split(['@', ':']).nth(1)?.parse().ok()
            })
            .collect()
    }

    /// Keys held by the master on `port`.
    pub fn keys_on(&self, port: u16) -> u64 {
        self.cli(port, &["dbsize"]).trim().parse().unwrap_or(0)
    }

    /// Kills the master on `port` with SIGKILL.
    pub fn kill9(&mut self, port: u16) {
        if let Some(n) = self.nodes.iter_mut().find(|n| n.port == port) {
            n.kill9();
        }
    }

    /// Waits up to 30 s until every live node says every slot is served.
    pub fn wait_ok(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let live = self
                .nodes
                .iter()
                .filter(|n| std::net::TcpStream::connect(("127.0.0.1", n.port)).is_ok());
            let ok = live.clone().count() > 0
                && live.clone().all(|n| {
                    Command::new("redis-cli")
                        .args(["-p", &n.port.to_string(), "cluster", "info"])
                        .output()
                        .is_ok_and(|o| {
                            String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok")
                        })
                });
            if ok {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the redis cluster never reached cluster_state:ok"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}
