//! The all-in-one process as the end-to-end tests start it: serving, with
//! tenants made straight in its store.

use std::time::Duration;

use rapport::{client::Clients, suite::Suite};
use rapport_kit::{config::Config, tenants::Tenant};

/// Starts the all-in-one process on `config` and waits (at most 30 s)
/// until every service in it is serving.
pub async fn serving(config: Config) -> Suite {
    let suite = Suite::start(config).await.expect("suite");
    suite
        .wait_ready(Duration::from_secs(30))
        .await
        .expect("every service serving");
    suite
}

/// Creates the tenant `name` (in euros) in `suite`: the tenant and its
/// first API key.
pub async fn tenant(suite: &Suite, name: &str) -> (Tenant, String) {
    suite
        .app
        .auth
        .tenants()
        .create(name, "EUR")
        .await
        .expect("create tenant")
}

/// Clients of `suite` for `key`.
pub fn clients(suite: &Suite, key: &str) -> Clients {
    Clients::connect(&suite.url(), key).expect("clients")
}

/// Clients for two new tenants of `suite`, "acme" and "globex".
pub async fn two_tenants(suite: &Suite) -> (Clients, Clients) {
    let (_, key_a) = tenant(suite, "acme").await;
    let (_, key_b) = tenant(suite, "globex").await;
    (clients(suite, &key_a), clients(suite, &key_b))
}
