//! Signed webhooks against a real local HTTP(S) receiver, checked by a
//! verifier written here from the documented scheme, on both backends.

mod support;

use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{Channel, NotificationStatus};
use support::{
    Receiver, TOLERANCE_SECS, client, customer, profiles, rotate, send, send_settled, server,
    settled, stop, stored, tenant_key, tls, verify, webhook, worker,
};

rapport_kit::backend_tests!(
    webhooks_are_signed_with_the_tenant_secret,
    webhooks_to_a_customer_need_consent,
    https_webhook_to_a_private_ca_arrives_signed,
    no_webhook_goes_out_unsigned,
);

async fn webhooks_are_signed_with_the_tenant_secret(backend: Backend) {
    // No overlap: a rotation ends the old secret at once.
    let ts = server(backend, |c| c.secret_overlap_ms = 0).await;
    let (key_a, key_b) = (
        tenant_key(&ts, "acme").await,
        tenant_key(&ts, "globex").await,
    );
    let (mut a, mut b) = (client(&ts, &key_a), client(&ts, &key_b));
    let receiver = Receiver::start().await;
    let workers = vec![worker(&ts)];

    let first = rotate(&mut a).await;
    let secret_a = rotate(&mut a).await;
    assert_ne!(first, secret_a, "each rotation makes a new secret");
    assert!(secret_a.len() >= 64);
    let secret_b = rotate(&mut b).await;
    assert_ne!(secret_a, secret_b);

    let id_a = send(&mut a, webhook("signed", "", &receiver.url("/h"))).await;
    let id_b = send(&mut b, webhook("signed", "", &receiver.url("/h"))).await;
    assert_eq!(
        settled(&mut a, &id_a).await.status,
        NotificationStatus::Delivered as i32
    );
    assert_eq!(
        settled(&mut b, &id_b).await.status,
        NotificationStatus::Delivered as i32
    );
    stop(ts, workers).await;

    let now = chrono::Utc::now().timestamp();
    let call = |id: &str| {
        receiver
            .calls()
            .into_iter()
            .find(|c| c.header("idempotency-key") == id)
            .expect("received")
    };
    let (call_a, call_b) = (call(&id_a), call(&id_b));
    let sig_a = call_a.header("rapport-signature").to_owned();
    assert_eq!(verify(&secret_a, &sig_a, &call_a.body, now), Ok(()));
    // Only the current secret of the sending tenant verifies.
    assert_eq!(
        verify(&first, &sig_a, &call_a.body, now),
        Err("bad signature")
    );
    assert_eq!(
        verify(&secret_b, &sig_a, &call_a.body, now),
        Err("bad signature")
    );
    let sig_b = call_b.header("rapport-signature");
    assert_eq!(verify(&secret_b, sig_b, &call_b.body, now), Ok(()));
    // A tampered body fails; so does a replay after the tolerance.
    let mut tampered = call_a.body.to_vec();
    tampered.extend_from_slice(b" ");
    assert_eq!(
        verify(&secret_a, &sig_a, &tampered, now),
        Err("bad signature")
    );
    assert_eq!(
        verify(&secret_a, &sig_a, &call_a.body, now + TOLERANCE_SECS + 60),
        Err("stale timestamp")
    );
    // Moving the timestamp forward under the old MAC fails too.
    let v1 = sig_a.split_once(",v1=").unwrap().1;
    let t: i64 = sig_a[2..].split(',').next().unwrap().parse().unwrap();
    let forged = format!("t={},v1={v1}", t + 60);
    assert_eq!(
        verify(&secret_a, &forged, &call_a.body, now),
        Err("bad signature")
    );
}

async fn webhooks_to_a_customer_need_consent(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let key = tenant_key(&ts, "acme").await;
    let (mut notify, mut people) = (client(&ts, &key), profiles(&ts, &key));
    let receiver = Receiver::start().await;
    let without = customer(&mut people, "No", "", "", &[], &[]).await;
    let with = customer(&mut people, "Yes", "", "", &[], &[Channel::Webhook]).await;
    let workers = vec![worker(&ts)];
    let refused = stored(&mut notify, webhook("no", &without, &receiver.url("/h"))).await;
    assert_eq!(refused.status, NotificationStatus::Suppressed as i32);
    assert_eq!(refused.suppressed_reason, "NO_CONSENT");
    let id = send(&mut notify, webhook("yes", &with, &receiver.url("/h"))).await;
    assert_eq!(
        settled(&mut notify, &id).await.status,
        NotificationStatus::Delivered as i32
    );
    stop(ts, workers).await;
    assert_eq!(receiver.calls().len(), 1);
    assert_eq!(receiver.calls()[0].json()["customer_id"], with.as_str());
}

/// An https:// webhook whose receiver has a certificate from a private CA,
/// trusted through `notify.http_ca_file`, arrives once with its body and a
/// signature that verifies.
async fn https_webhook_to_a_private_ca_arrives_signed(backend: Backend) {
    let (cert, key_file) = tls::self_signed();
    let receiver = Receiver::start_https(&cert, &key_file).await;
    assert!(receiver.url("/h").starts_with("https://127.0.0.1:"));
    let ts = server(backend, |c| c.http_ca_file = Some(cert.clone())).await;
    let mut notify = client(&ts, &tenant_key(&ts, "acme").await);
    let secret = rotate(&mut notify).await;
    let workers = vec![worker(&ts)];

    let (id, n) = send_settled(
        &mut notify,
        webhook("tls", "", &receiver.url("/hooks?sig=abc")),
    )
    .await;
    assert_eq!(n.status, NotificationStatus::Delivered as i32, "{n:?}");
    assert_eq!(n.attempt_count, 1);
    assert_eq!(n.provider_message_id, "msg-0");
    assert_eq!(n.last_error, "");
    stop(ts, workers).await;

    let call = receiver.only_call();
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, "/hooks?sig=abc");
    assert_eq!(call.header("idempotency-key"), id);
    let body = call.json();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["dedupe_key"], "tls");
    assert_eq!(body["subject"], "Your tier changed");
    assert_eq!(body["body"], "{\"tier\":\"gold\"}");
    let signature = call.header("rapport-signature");
    let now = chrono::Utc::now().timestamp();
    assert_eq!(verify(&secret, signature, &call.body, now), Ok(()));
}

/// A tenant without a signing secret cannot send a webhook at all; once it
/// has one, the same request is accepted.
async fn no_webhook_goes_out_unsigned(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let (_, key) = ts.tenant("fresh", "EUR").await;
    let mut c = client(&ts, &key);
    let receiver = Receiver::start().await;
    let request = webhook("k1", "", &receiver.url("/hook"));
    let refused = c.send_notification(request.clone()).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains("RotateWebhookSecret"),
        "{}",
        refused.message()
    );
    rotate(&mut c).await;
    let accepted = ok(c.send_notification(request)).await;
    assert!(
        accepted.created,
        "refused requests leave the dedupe key unused"
    );
    ts.stop().await;
}
