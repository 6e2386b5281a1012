//! SMS through a provider's HTTP API, played by a real local HTTP server:
//! the configured payload and headers, retries against a provider failing
//! half its calls, dead letters, on both backends.

mod support;

use rapport_kit::{config::Secret, testing::Backend};
use rapport_notifications::config::NotifyConfig;
use rapport_proto::v1::{Channel, Purpose, SendNotificationRequest};
use support::{
    DEAD_LETTER, DELIVERED, Receiver, client, customer, profiles, send, send_settled, server,
    settled, stop, tenant_key, tls, worker,
};

rapport_kit::backend_tests!(
    provider_receives_the_configured_payload,
    half_failing_provider_is_retried_until_each_message_lands_once,
    always_failing_provider_dead_letters_after_max_attempts,
    permanent_refusal_dead_letters_at_once,
    a_providers_error_keeps_no_token_or_address,
    https_provider_with_a_private_ca_gets_the_message,
);

fn sms_config(c: &mut NotifyConfig, url: String) {
    c.sms.url = Some(url);
    c.sms.auth_value = Some(Secret::new("Bearer sms-token"));
    c.sms.from = "Rapport".into();
    c.sms.payload_template =
        r#"{"to":"{to}","sender":"{from}","message":"{text}","reference":"{idempotency_key}"}"#
            .into();
    c.sms.message_id_pointer = "/id".into();
    c.max_attempts = 4;
}

fn sms(dedupe_key: &str, customer_id: &str, text: &str) -> SendNotificationRequest {
    SendNotificationRequest {
        dedupe_key: dedupe_key.into(),
        customer_id: customer_id.into(),
        channel: Channel::Sms as i32,
        body: text.into(),
        purpose: Purpose::Transactional as i32,
        ..Default::default()
    }
}

/// A server with SMS pointed at `provider`, a tenant and a consenting customer.
async fn setup(
    backend: Backend,
    provider: &Receiver,
) -> (rapport_kit::testing::TestServer, support::Client, String) {
    setup_with(backend, provider, |_| {}).await
}

/// [`setup`], with `tweak` adjusting the configuration further.
async fn setup_with(
    backend: Backend,
    provider: &Receiver,
    tweak: impl FnOnce(&mut NotifyConfig),
) -> (rapport_kit::testing::TestServer, support::Client, String) {
    let url = provider.url("/v1/messages");
    let ts = server(backend, |c| {
        sms_config(c, url);
        tweak(c);
    })
    .await;
    let key = tenant_key(&ts, "acme").await;
    let mut people = profiles(&ts, &key);
    let who = customer(&mut people, "Sam", "", "+41791234567", &[], &[Channel::Sms]).await;
    let notify = client(&ts, &key);
    (ts, notify, who)
}

async fn provider_receives_the_configured_payload(backend: Backend) {
    let provider = Receiver::start().await;
    provider.without_id_header();
    // The provider's URL is the operator's setting: the guard that keeps
    // webhooks off private addresses does not apply to it.
    let (ts, mut notify, who) = setup_with(backend, &provider, |c| {
        c.allow_private_destinations = false;
    })
    .await;
    let workers = vec![worker(&ts)];
    let text = "Your table is booked for 19:30 \"tonight\"";
    let (id, n) = send_settled(&mut notify, sms("booking-1", &who, text)).await;
    assert_eq!(n.status, DELIVERED, "{n:?}");
    assert_eq!(n.destination, "+41791234567", "the profile's number");
    assert_eq!(n.provider_message_id, "body-0", "read at the JSON pointer");
    stop(ts, workers).await;

    let call = provider.only_call();
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, "/v1/messages");
    assert_eq!(call.header("authorization"), "Bearer sms-token");
    assert_eq!(call.header("idempotency-key"), id);
    assert_eq!(call.header("content-type"), "application/json");
    let body = call.json();
    assert_eq!(
        body,
        serde_json::json!({
            "to": "+41791234567",
            "sender": "Rapport",
            "message": text,
            "reference": id,
        })
    );
}

async fn half_failing_provider_is_retried_until_each_message_lands_once(backend: Backend) {
    let provider = Receiver::start().await;
    provider.fail_first_per_key();
    let (ts, mut notify, who) = setup(backend, &provider).await;
    let workers = vec![worker(&ts)];
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            send(
                &mut notify,
                sms(&format!("m{i}"), &who, &format!("message {i}")),
            )
            .await,
        );
    }
    for id in &ids {
        let n = settled(&mut notify, id).await;
        assert_eq!(n.status, DELIVERED, "{n:?}");
        assert_eq!(n.attempt_count, 2, "one failure, one retry");
        let (failed, ok) = (&n.attempts[0], &n.attempts[1]);
        assert_eq!(
            (failed.number, failed.succeeded, failed.http_status),
            (1, false, 503)
        );
        assert!(failed.error.contains("503"), "{}", failed.error);
        assert!(failed.retry_delay_ms <= 20, "back-off within the first cap");
        assert_eq!((ok.number, ok.succeeded, ok.http_status), (2, true, 200));
        assert_eq!(ok.retry_delay_ms, 0);
        let at = |a: &rapport_proto::v1::DeliveryAttempt| {
            let t = a.started_at.unwrap();
            (t.seconds, t.nanos)
        };
        assert!(at(failed) < at(ok), "the retry came after the failure");
    }
    assert_eq!(
        provider.calls().len(),
        2 * ids.len(),
        "half the calls failed"
    );
    stop(ts, workers).await;
    let accepted = provider.accepted();
    assert_eq!(accepted.len(), ids.len(), "each message accepted once");
    let mut keys: Vec<_> = accepted
        .iter()
        .map(|c| c.header("idempotency-key").to_owned())
        .collect();
    keys.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(keys, expected);
}

/// A provider answering every call with `status`, and one SMS to it (sent
/// through a worker) once settled; the server is stopped.
async fn answered_always(
    backend: Backend,
    status: u16,
    dedupe_key: &str,
) -> (Receiver, rapport_proto::v1::Notification) {
    let provider = Receiver::start().await;
    provider.always(status);
    let (ts, mut notify, who) = setup(backend, &provider).await;
    let workers = vec![worker(&ts)];
    let (_, n) = send_settled(&mut notify, sms(dedupe_key, &who, "hello")).await;
    stop(ts, workers).await;
    (provider, n)
}

async fn always_failing_provider_dead_letters_after_max_attempts(backend: Backend) {
    let (provider, n) = answered_always(backend, 503, "doomed").await;
    assert_eq!(n.status, DEAD_LETTER);
    assert_eq!(n.attempt_count, 4, "max_attempts");
    assert!(
        n.attempts
            .iter()
            .all(|a| !a.succeeded && a.http_status == 503)
    );
    // The back-off kept with each attempt stays under a cap that doubles
    // (base 20 ms in tests): full jitter picks anywhere below it.
    let delays: Vec<u32> = n.attempts.iter().map(|a| a.retry_delay_ms).collect();
    for (i, cap) in [20, 40, 80].into_iter().enumerate() {
        assert!(delays[i] <= cap, "attempt {}: {delays:?}", i + 1);
    }
    assert_eq!(delays[3], 0, "no back-off after the last attempt");
    assert!(n.next_attempt_at.is_none());
    assert_eq!(provider.calls().len(), 4);
    assert!(provider.accepted().is_empty());
}

async fn permanent_refusal_dead_letters_at_once(backend: Backend) {
    let (provider, n) = answered_always(backend, 400, "refused").await;
    assert_eq!(n.status, DEAD_LETTER);
    assert_eq!(n.attempt_count, 1, "a 400 is not retried");
    assert!(
        n.last_error.contains("400") && n.last_error.contains("status 400"),
        "the provider's own error is kept: {}",
        n.last_error
    );
    assert_eq!(provider.calls().len(), 1);
}

/// A provider failing with a body that names a token, an email address and
/// a phone number: the tenant reads the status and the provider's words,
/// none of those.
async fn a_providers_error_keeps_no_token_or_address(backend: Backend) {
    let provider = Receiver::start().await;
    provider.always(500);
    provider.error_body(
        r#"{"error":"upstream refused token sk_live_51Hx9Q2eZvKYlo2C for ops@example.com","to":"+41 79 123 45 67"}"#,
    );
    let (ts, mut notify, who) = setup_with(backend, &provider, |c| c.max_attempts = 2).await;
    let workers = vec![worker(&ts)];
    let (_, n) = send_settled(&mut notify, sms("leaky", &who, "hello")).await;
    stop(ts, workers).await;
    assert_eq!(n.status, DEAD_LETTER);
    assert!(
        n.last_error.contains("500") && n.last_error.contains("upstream refused token"),
        "{}",
        n.last_error
    );
    for text in std::iter::once(&n.last_error).chain(n.attempts.iter().map(|a| &a.error)) {
        for secret in ["sk_live", "51Hx9Q2", "ops@", "example.com", "79 123"] {
            assert!(!text.contains(secret), "{secret} kept: {text}");
        }
    }
}

/// A provider at an https:// URL whose certificate comes from a private CA,
/// trusted through `notify.http_ca_file`, gets the message.
async fn https_provider_with_a_private_ca_gets_the_message(backend: Backend) {
    let (cert, key_file) = tls::self_signed();
    let provider = Receiver::start_https(&cert, &key_file).await;
    assert!(provider.url("/").starts_with("https://"));
    let (ts, mut notify, who) =
        setup_with(backend, &provider, |c| c.http_ca_file = Some(cert)).await;
    let workers = vec![worker(&ts)];
    let (id, n) = send_settled(&mut notify, sms("tls-1", &who, "Over TLS")).await;
    assert_eq!(n.status, DELIVERED, "{n:?}");
    assert_eq!(n.attempt_count, 1);
    assert_eq!(n.provider_message_id, "body-0", "read at the JSON pointer");
    stop(ts, workers).await;

    let call = provider.only_call();
    assert_eq!(call.path, "/v1/messages");
    assert_eq!(call.header("authorization"), "Bearer sms-token");
    assert_eq!(call.header("idempotency-key"), id);
    let body = call.json();
    assert_eq!(body["to"], "+41791234567");
    assert_eq!(body["message"], "Over TLS");
}
