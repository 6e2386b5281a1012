//! Webhook signing secrets at rest and across a rotation, on both backends:
//! what the store keeps never holds a secret, plaintext rows from before
//! sealing are sealed, and during a rotation's overlap a webhook carries a
//! signature under each secret, both of which verify at the receiver.

mod support;

use rapport_kit::{Db, config::Secret, testing::Backend};
use rapport_notifications::{SCHEMA, config::NotifyConfig, spawn_worker};
use support::{
    Client, DELIVERED, Receiver, client, peers, rotate, run_sql, send_settled, server, stop, store,
    tenant_key, texts, verify, webhook, worker,
};

rapport_kit::backend_tests!(
    secrets_are_sealed_at_rest,
    a_plaintext_secret_is_sealed_when_the_worker_starts,
    a_rotation_signs_with_both_secrets_until_its_overlap_ends,
    secrets_under_the_development_key_move_to_the_configured_key,
);

/// 32 bytes in base64, as `notify.secret_key` takes them.
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Every value in the store's secret columns.
async fn stored_secrets(db: &Db) -> Vec<String> {
    let mut all = texts(db, "SELECT secret FROM webhook_secrets").await;
    all.extend(
        texts(
            db,
            "SELECT previous_secret FROM webhook_secrets WHERE previous_secret IS NOT NULL",
        )
        .await,
    );
    all
}

/// Sends a webhook from `client` to `receiver` and returns the signature
/// header and body it arrived with.
async fn signed(client: &mut Client, receiver: &Receiver, key: &str) -> (String, Vec<u8>) {
    let (id, n) = send_settled(client, webhook(key, "", &receiver.url("/h"))).await;
    assert_eq!(n.status, DELIVERED, "{n:?}");
    let call = receiver
        .calls()
        .into_iter()
        .find(|c| c.header("idempotency-key") == id)
        .expect("received");
    (
        call.header("rapport-signature").to_owned(),
        call.body.to_vec(),
    )
}

async fn secrets_are_sealed_at_rest(backend: Backend) {
    let ts = server(backend, |c| c.secret_key = Some(Secret::new(KEY))).await;
    let mut notify = client(&ts, &tenant_key(&ts, "acme").await);
    let old = rotate(&mut notify).await;
    let new = rotate(&mut notify).await;
    let db = store(&ts).await;
    let stored = stored_secrets(&db).await;
    assert_eq!(stored.len(), 2, "current and previous");
    for value in &stored {
        assert!(value.starts_with("sealed1:"), "{value}");
        for secret in [&old, &new] {
            assert!(!value.contains(secret.as_str()), "{value}");
            assert!(!value.contains(&secret["whsec_".len()..]), "{value}");
        }
    }
    let development = texts(&db, "SELECT key FROM development_key").await;
    assert!(development.is_empty(), "a key is configured");
    // What is sealed still signs.
    let receiver = Receiver::start().await;
    let workers = vec![worker(&ts)];
    let (header, body) = signed(&mut notify, &receiver, "sealed").await;
    stop(ts, workers).await;
    let now = chrono::Utc::now().timestamp();
    assert_eq!(verify(&new, &header, &body, now), Ok(()));
}

/// A row written before secrets were sealed holds the secret in plaintext;
/// the worker seals it when it starts, and webhooks still verify with it.
async fn a_plaintext_secret_is_sealed_when_the_worker_starts(backend: Backend) {
    let ts = server(backend, |c| c.secret_key = Some(Secret::new(KEY))).await;
    let mut notify = client(&ts, &tenant_key(&ts, "acme").await);
    let legacy = "whsec_0123456789legacy0123456789";
    let db = store(&ts).await;
    let update = format!(
        "UPDATE webhook_secrets SET secret = '{legacy}', previous_secret = NULL, \
         previous_until = NULL"
    );
    run_sql(&db, &update, &update).await;
    assert_eq!(stored_secrets(&db).await, vec![legacy.to_owned()]);
    let workers = vec![worker(&ts)];
    let mut sealed = false;
    for _ in 0..400 {
        let stored = stored_secrets(&db).await;
        if stored
            .iter()
            .all(|v| v.starts_with("sealed1:") && !v.contains(legacy))
        {
            sealed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(sealed, "still plaintext: {:?}", stored_secrets(&db).await);
    let receiver = Receiver::start().await;
    let (header, body) = signed(&mut notify, &receiver, "legacy").await;
    stop(ts, workers).await;
    let now = chrono::Utc::now().timestamp();
    assert_eq!(verify(legacy, &header, &body, now), Ok(()));
}

/// After a rotation, a webhook carries `v1` under the new secret and under
/// the one it replaced, each verifying with its own secret; once the
/// overlap ended only the new one signs. No key is configured: the
/// development key seals them.
async fn a_rotation_signs_with_both_secrets_until_its_overlap_ends(backend: Backend) {
    let ts = server(backend, |c| c.secret_overlap_ms = 3_600_000).await;
    let mut notify = client(&ts, &tenant_key(&ts, "acme").await);
    let oldest = rotate(&mut notify).await;
    let old = rotate(&mut notify).await;
    let new = rotate(&mut notify).await;
    let receiver = Receiver::start().await;
    let workers = vec![worker(&ts)];
    let now = chrono::Utc::now().timestamp();

    let (header, body) = signed(&mut notify, &receiver, "during").await;
    let v1: Vec<&str> = header.split(',').filter(|p| p.starts_with("v1=")).collect();
    assert_eq!(v1.len(), 2, "{header}");
    let t = header.split(',').next().unwrap();
    for (secret, signature) in [(&new, v1[0]), (&old, v1[1])] {
        let one = format!("{t},{signature}");
        assert_eq!(verify(secret, &one, &body, now), Ok(()), "{one}");
    }
    assert_eq!(
        verify(&oldest, &header, &body, now),
        Err("bad signature"),
        "only the last rotation overlaps"
    );

    // The overlap's end, moved to the past as time would move it.
    let db = store(&ts).await;
    run_sql(
        &db,
        "UPDATE webhook_secrets SET previous_until = now() - interval '1 second'",
        "UPDATE webhook_secrets SET previous_until = 0",
    )
    .await;
    let (header, body) = signed(&mut notify, &receiver, "after").await;
    stop(ts, workers).await;
    assert_eq!(header.matches(",v1=").count(), 1, "{header}");
    assert_eq!(verify(&new, &header, &body, now), Ok(()));
    assert_eq!(verify(&old, &header, &body, now), Err("bad signature"));
    assert!(stored_secrets(&db).await.iter().all(|v| !v.contains(&new)));
}

/// Secrets sealed under the development key (no key configured) still open
/// once a key is configured, and a worker with that key seals them again
/// under it when it starts.
async fn secrets_under_the_development_key_move_to_the_configured_key(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut notify = client(&ts, &tenant_key(&ts, "acme").await);
    let secret = rotate(&mut notify).await;
    let db = store(&ts).await;
    assert_eq!(texts(&db, "SELECT key FROM development_key").await.len(), 1);
    let key_ids = |values: Vec<String>| -> Vec<String> {
        values
            .iter()
            .map(|v| v.split(':').nth(1).unwrap_or_default().to_owned())
            .collect()
    };
    let development = key_ids(stored_secrets(&db).await);
    assert_eq!(development.len(), 2, "current and previous");
    assert!(
        development.iter().all(|id| id.len() == 8),
        "{development:?}"
    );

    let mut config = ts.config.section::<NotifyConfig>().unwrap();
    config.secret_key = Some(Secret::new(KEY));
    let pool = Db::connect_lazy(&ts.config, SCHEMA).expect("worker pool");
    let shutdown = ts.app.shutdown.clone();
    let workers = vec![spawn_worker(pool, config, peers(&ts.url(), &ts.app), shutdown).unwrap()];
    let mut moved = false;
    for _ in 0..400 {
        let now = key_ids(stored_secrets(&db).await);
        if now
            .iter()
            .all(|id| id.len() == 8 && !development.contains(id))
        {
            moved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(moved, "still under the development key");
    let receiver = Receiver::start().await;
    let (header, body) = signed(&mut notify, &receiver, "moved").await;
    stop(ts, workers).await;
    let now = chrono::Utc::now().timestamp();
    assert_eq!(verify(&secret, &header, &body, now), Ok(()));
}
