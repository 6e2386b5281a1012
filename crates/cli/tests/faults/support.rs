//! The fault suite's harness: the four services as separate `rapport serve`
//! processes on a given Postgres and Redis, sizes, figures, and the
//! notifications a tenant holds.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use rapport::{
    client::Clients,
    split::{Split, SplitOptions, free_addrs},
};
use rapport_kit::testing::{fresh_dir, run_ok};

const BIN: &str = env!("CARGO_BIN_EXE_rapport");

/// Whether the full sizes and outages run (`FAULTS_FULL=1`). Not a
/// `RAPPORT_*` name: the services inherit this process's environment and
/// refuse settings they do not know.
pub fn full() -> bool {
    std::env::var("FAULTS_FULL").is_ok_and(|v| v == "1")
}

/// `ci` normally, `full` with `FAULTS_FULL=1`.
pub fn size<T>(ci: T, full_size: T) -> T {
    if full() { full_size } else { ci }
}

/// Prints a figure the way the release note quotes it.
pub fn figure(name: &str, text: impl std::fmt::Display) {
    println!("FAULT {name}: {text}");
}

/// The four services as four processes.
pub struct Stack {
    pub split: Split,
    opts: SplitOptions,
    database_url: String,
    /// Where each process writes its log (`<service>.log`).
    pub logs: PathBuf,
}

impl Stack {
    /// Starts the four services on `database_url` and `redis_url` with fast
    /// polling and back-off, plus `env`; waits until all are SERVING.
    pub async fn start(database_url: &str, redis_url: &str, env: &[(&str, &str)]) -> Stack {
        let logs = fresh_dir();
        let prefix = format!("rapport-f-{}", uuid::Uuid::new_v4().simple());
        // Later entries win: `env` overrides the defaults.
        let vars: Vec<(String, String)> = [
            ("DATABASE_URL", database_url),
            ("REDIS_URL", redis_url),
            ("RAPPORT_CACHE_PREFIX", &prefix),
            ("RAPPORT_RELAY__POLL_INTERVAL_MS", "20"),
            ("RAPPORT_NOTIFY__POLL_INTERVAL_MS", "20"),
            ("RAPPORT_NOTIFY__BASE_BACKOFF_MS", "50"),
            ("RAPPORT_NOTIFY__MAX_BACKOFF_MS", "500"),
            ("RAPPORT_NOTIFY__ALLOW_PRIVATE_DESTINATIONS", "true"),
            ("RUST_LOG", "warn"),
        ]
        .iter()
        .chain(env)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let opts = SplitOptions {
            rapport_bin: BIN.into(),
            addrs: free_addrs().expect("free ports"),
            env: vars,
            internal_token: format!("internal_{}", uuid::Uuid::new_v4().simple()),
            log_dir: Some(logs.clone()),
        };
        let mut split = Split::start(&opts).await.expect("start the services");
        let stack = |split| Stack {
            split,
            opts: opts.clone(),
            database_url: database_url.to_owned(),
            logs: logs.clone(),
        };
        if let Err(e) = split.wait_ready(Duration::from_secs(120)).await {
            let s = stack(split);
            panic!("the services did not start: {e}\n{}", s.log_tails());
        }
        stack(split)
    }

    /// The last lines of every service's log, for a failure message.
    pub fn log_tails(&self) -> String {
        let mut out = String::new();
        for name in rapport::split::SERVICES {
            let log = std::fs::read_to_string(self.logs.join(format!("{name}.log")));
            let log = log.unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(15)..].join("\n");
            out.push_str(&format!("--- {name}\n{tail}\n"));
        }
        out
    }

    /// `http://addr` of `name`.
    pub fn url(&self, name: &str) -> String {
        self.split.service(name).expect("a service").url()
    }

    /// A tenant made with `rapport tenant create`; returns its API key.
    pub fn tenant(&self, name: &str) -> String {
        let out = run_ok(
            std::process::Command::new(BIN)
                .args(["tenant", "create", name, "--currency", "EUR"])
                .env("DATABASE_URL", &self.database_url)
                .env("RUST_LOG", "warn"),
        );
        out.lines()
            .find_map(|l| l.split("shown once, store it now): ").nth(1))
            .expect("the key is printed")
            .trim()
            .to_owned()
    }

    /// Clients of the four services for the tenant with `key`.
    pub fn clients(&self, key: &str) -> Clients {
        Clients::connect_each(
            &self.url("profiles"),
            &self.url("ingestion"),
            &self.url("scoring"),
            &self.url("notifications"),
            key,
        )
        .expect("clients")
    }

    /// Kills `name` with SIGKILL.
    pub async fn kill9(&mut self, name: &str) {
        self.split.kill9(name).await.expect("kill");
    }

    /// Starts `name` again and waits until it is SERVING.
    pub async fn restart(&mut self, name: &str) {
        self.split.restart(&self.opts, name).expect("restart");
        let url = self.url(name);
        if let Err(e) = rapport::client::wait_serving(&url, Duration::from_secs(120)).await {
            panic!("{name} did not come back: {e}\n{}", self.log_tails());
        }
    }

    /// Starts each service's workers as a process of its own beside the
    /// four (ingestion's relay, scoring's refresh and rules, notifications'
    /// delivery), as the production overlay's worker Deployments run them;
    /// waits until they are SERVING. Returns their URLs by service.
    pub async fn start_workers(&mut self) -> BTreeMap<&'static str, String> {
        const WORKERS: [(&str, &str); 3] = [
            ("ingestion", "relay"),
            ("scoring", "refresh,rules"),
            ("notifications", "notify"),
        ];
        let addrs: [std::net::SocketAddr; 3] = free_addrs().expect("free ports");
        let mut urls = BTreeMap::new();
        for ((name, roles), addr) in WORKERS.into_iter().zip(addrs) {
            let process = self.split.add_process(&self.opts, name, roles, addr);
            let process = process.expect("start a worker process");
            urls.insert(process.name, process.url());
        }
        if let Err(e) = self.split.wait_ready(Duration::from_secs(120)).await {
            panic!("the workers did not start: {e}\n{}", self.log_tails());
        }
        urls
    }

    /// Stops the four processes.
    pub async fn stop(mut self) {
        self.split.stop(Duration::from_secs(10)).await;
        let _ = std::fs::remove_dir_all(&self.logs);
    }
}

/// How many of the tenant's notifications are in each status.
pub async fn notification_statuses(c: &mut Clients) -> BTreeMap<String, usize> {
    use rapport_proto::v1::{ListNotificationsRequest, NotificationStatus};
    let mut out = BTreeMap::new();
    let mut token = String::new();
    loop {
        let page = c
            .notifications
            .list_notifications(ListNotificationsRequest {
                customer_id: String::new(),
                page_size: 500,
                page_token: token,
            })
            .await
            .expect("list notifications")
            .into_inner();
        for n in page.notifications {
            let status =
                NotificationStatus::try_from(n.status).map_or("unknown", |s| s.as_str_name());
            *out.entry(status.to_owned()).or_insert(0) += 1;
        }
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// Gives the tenant a webhook signing secret (webhooks are always signed).
pub async fn webhook_secret(c: &mut Clients) {
    rapport_kit::testing::ok(
        c.notifications
            .rotate_webhook_secret(rapport_proto::v1::RotateWebhookSecretRequest::default()),
    )
    .await;
}
