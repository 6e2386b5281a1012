//! The key cache against both stores: what a flood of unknown keys costs,
//! that the cache stays bounded, that issuing or revoking a key is seen at
//! once by the process that did it, and that disabling a tenant is seen at
//! once by it and soon by another.

use uuid::Uuid;

use super::{SCHEMA, TenantStore, hash_key, keys::NewKey};
use crate::{
    db::Db,
    testing::{self, Backend},
};

/// A migrated registry on a fresh database, with a cache of at most `bound`
/// keys of each kind.
async fn store(backend: Backend, bound: usize) -> TenantStore {
    let config = testing::config(backend).await;
    let db = Db::connect_lazy(&config, SCHEMA).expect("pool");
    db.migrate(SCHEMA, &super::MIGRATIONS)
        .await
        .expect("migrate");
    TenantStore::with_cache_bound(db, bound)
}

fn bogus(n: usize) -> Vec<String> {
    (0..n)
        .map(|_| hash_key(&format!("rpk_{}", Uuid::new_v4().simple())))
        .collect()
}

async fn unknown_keys_cost_one_lookup_each(backend: Backend) {
    let store = store(backend, 100).await;
    let keys = bogus(40);
    for _ in 0..5 {
        for k in &keys {
            assert_eq!(store.tenant_for_key(k).await.unwrap(), None);
        }
    }
    assert_eq!(
        store.key_lookups(),
        40,
        "one lookup per unknown key, not per call"
    );
    assert_eq!(store.unknown_keys_cached(), 40);
}

async fn the_unknown_key_cache_is_bounded(backend: Backend) {
    let store = store(backend, 50).await;
    for k in bogus(300) {
        assert_eq!(store.tenant_for_key(&k).await.unwrap(), None);
        assert!(
            store.unknown_keys_cached() <= 50,
            "the cache grew past its bound"
        );
    }
    assert_eq!(store.unknown_keys_cached(), 50);
    assert_eq!(store.key_lookups(), 300);
}

async fn a_key_issued_after_it_was_refused_works_at_once(backend: Backend) {
    let store = store(backend, 100).await;
    let (tenant, _) = store.create("acme", "EUR").await.unwrap();
    let new = NewKey::new(tenant.id, "later", None);
    let hash = new.hash.clone();
    assert_eq!(store.tenant_for_key(&hash).await.unwrap(), None);
    assert_eq!(store.tenant_for_key(&hash).await.unwrap(), None, "cached");
    let lookups = store.key_lookups();
    store.issue(new, None).await.unwrap();
    let found = store.tenant_for_key(&hash).await.unwrap();
    assert_eq!(found.map(|t| t.id), Some(tenant.id));
    assert_eq!(store.key_lookups(), lookups + 1);
}

async fn a_revoked_key_is_refused_at_once_by_this_process(backend: Backend) {
    let store = store(backend, 100).await;
    let (tenant, first) = store.create("acme", "EUR").await.unwrap();
    let issued = store.issue_key(tenant.id, "ci", None).await.unwrap();
    let secret = issued.secret.expect("a new key is shown");
    assert!(secret.starts_with(&issued.key.prefix) && issued.key.prefix.len() == 12);
    for key in [&first, &secret] {
        let found = store.tenant_for_key(&hash_key(key)).await.unwrap();
        assert_eq!(found.map(|t| t.id), Some(tenant.id), "cached as valid");
    }
    let revoked = store.revoke_key(tenant.id, issued.key.id).await.unwrap();
    let at = revoked.revoked_at.expect("revoked");
    assert_eq!(
        store.tenant_for_key(&hash_key(&secret)).await.unwrap(),
        None
    );
    assert!(
        store
            .tenant_for_key(&hash_key(&first))
            .await
            .unwrap()
            .is_some()
    );
    // Revoking again changes nothing; another tenant cannot name the key.
    let again = store.revoke_key(tenant.id, issued.key.id).await.unwrap();
    assert_eq!(again.revoked_at, Some(at));
    let (other, _) = store.create("globex", "EUR").await.unwrap();
    let err = store.revoke_key(other.id, issued.key.id).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
}

async fn keys_list_by_page_without_secrets(backend: Backend) {
    let store = store(backend, 100).await;
    let (tenant, _) = store.create("acme", "EUR").await.unwrap();
    let (other, _) = store.create("globex", "EUR").await.unwrap();
    for i in 0..4 {
        store
            .issue_key(tenant.id, &format!("k{i}"), None)
            .await
            .unwrap();
    }
    store.issue_key(other.id, "theirs", None).await.unwrap();
    let (page, token) = store.list_keys(tenant.id, 3, "").await.unwrap();
    let (rest, end) = store.list_keys(tenant.id, 3, &token).await.unwrap();
    assert!(end.is_empty());
    let labels: Vec<String> = page.iter().chain(&rest).map(|k| k.label.clone()).collect();
    assert_eq!(labels, ["initial", "k0", "k1", "k2", "k3"]);
    assert!(page.iter().all(|k| k.tenant_id == tenant.id));
    // Idempotent by request id: the second call answers the same key, no secret.
    let a = store
        .issue_key(tenant.id, "ci", Some("req-1"))
        .await
        .unwrap();
    let b = store
        .issue_key(tenant.id, "ci", Some("req-1"))
        .await
        .unwrap();
    assert!(a.secret.is_some() && b.secret.is_none());
    assert_eq!(a.key.id, b.key.id);
}

const RPC: &str = "/rapport.v1.AdminService/DisableTenant";

async fn a_disabled_tenant_s_keys_are_refused_at_once_by_this_process(backend: Backend) {
    let store = store(backend, 100).await;
    let (acme, acme_key) = store.create("acme", "EUR").await.unwrap();
    let (globex, globex_key) = store.create("globex", "EUR").await.unwrap();
    let (acme_key, globex_key) = (hash_key(&acme_key), hash_key(&globex_key));
    let owner = |t: Option<std::sync::Arc<super::Tenant>>| t.map(|t| t.id);
    assert_eq!(
        owner(store.tenant_for_key(&acme_key).await.unwrap()),
        Some(acme.id)
    );

    let (record, changed) = store.disable(RPC, acme.id, "unpaid").await.unwrap();
    assert!(changed && record.disabled_at.is_some());
    assert_eq!(store.tenant_for_key(&acme_key).await.unwrap(), None);
    let (again, changed) = store.disable(RPC, acme.id, "other").await.unwrap();
    assert!(!changed);
    assert_eq!(
        (again.disabled_at, again.disabled_reason.as_str()),
        (record.disabled_at, "unpaid")
    );
    let theirs = store.tenant_for_key(&globex_key).await.unwrap();
    assert_eq!(owner(theirs), Some(globex.id), "another tenant");

    let (record, changed) = store.enable(RPC, acme.id).await.unwrap();
    assert!(changed && record.disabled_at.is_none() && record.disabled_reason.is_empty());
    assert_eq!(
        owner(store.tenant_for_key(&acme_key).await.unwrap()),
        Some(acme.id)
    );
    assert!(!store.enable(RPC, acme.id).await.unwrap().1);
    let err = store.enable(RPC, Uuid::new_v4()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
}

/// One tenant disabled and another enabled between two of the SQLite
/// watcher's polls leave as many tenants disabled as before: the watcher
/// still hears of it.
async fn another_process_hears_of_a_disable_and_an_enable_together(backend: Backend) {
    hears_of_a_disable_and_an_enable(testing::config(backend).await).await;
}

/// Behind a real PgBouncer in transaction mode with no direct connection to
/// `LISTEN` on, the registry is migrated through the pooler and the other
/// process polls, and still hears of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_hears_through_pgbouncer_by_polling() {
    let mut config = testing::config(Backend::Postgres).await;
    let direct = config.database_url.take().unwrap();
    let bouncer =
        testing::instances::PgBouncer::spawn(direct.expose().to_owned(), vec![SCHEMA]).await;
    config.database_url = Some(crate::config::Secret::new(bouncer.url()));
    let db = Db::connect_lazy(&config, SCHEMA).unwrap();
    assert!(Db::listen_pool(&config, SCHEMA, &db).unwrap().is_none());
    hears_of_a_disable_and_an_enable(config).await;
    assert!(
        bouncer.transactions().iter().any(|(_, n)| *n > 0),
        "{}",
        bouncer.log()
    );
}

/// A `{schema}` URL whose database does not set the schema is refused when
/// migrating, naming the schema connections landed in, before anything is
/// written.
#[tokio::test]
async fn a_pooler_database_that_does_not_set_the_schema_is_refused() {
    let mut config = testing::config(Backend::Postgres).await;
    let direct = config.database_url.take().unwrap().expose().to_owned();
    // A direct URL marked as a pooler's: no schema is set at startup.
    config.database_url = Some(crate::config::Secret::new(format!(
        "{direct}?application_name=x{}",
        crate::config::SCHEMA_SLOT
    )));
    let db = Db::connect_lazy(&config, SCHEMA).unwrap();
    let err = db.migrate(SCHEMA, &super::MIGRATIONS).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("connections for schema tenants land in schema \"public\""),
        "{err}"
    );
    let pool = sqlx::PgPool::connect(&direct).await.unwrap();
    let schemas: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'tenants'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(schemas, 0, "the refused migration left its schema behind");
}

async fn hears_of_a_disable_and_an_enable(config: crate::config::Config) {
    let open = || {
        let db = Db::connect_lazy(&config, SCHEMA).expect("pool");
        TenantStore::new(db)
    };
    let (one, two) = (open(), open());
    one.db().migrate(SCHEMA, &super::MIGRATIONS).await.unwrap();
    let _watch = two.watch();
    let (acme, acme_key) = one.create("acme", "EUR").await.unwrap();
    let (globex, _) = one.create("globex", "EUR").await.unwrap();
    one.disable(RPC, globex.id, "trial ended").await.unwrap();
    let acme_key = hash_key(&acme_key);
    // Let the watcher take its first stamp, then cache acme's key.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(two.tenant_for_key(&acme_key).await.unwrap().is_some());

    one.disable(RPC, acme.id, "unpaid").await.unwrap();
    one.enable(RPC, globex.id).await.unwrap();
    let start = std::time::Instant::now();
    while two.tenant_for_key(&acme_key).await.unwrap().is_some() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(3),
            "the other process still takes the key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

crate::backend_tests!(
    a_disabled_tenant_s_keys_are_refused_at_once_by_this_process,
    another_process_hears_of_a_disable_and_an_enable_together,
    unknown_keys_cost_one_lookup_each,
    the_unknown_key_cache_is_bounded,
    a_key_issued_after_it_was_refused_works_at_once,
    a_revoked_key_is_refused_at_once_by_this_process,
    keys_list_by_page_without_secrets,
);
