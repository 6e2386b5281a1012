//! Integration endpoints against a real local HTTP receiver, on both
//! backends: registered by name, idempotent puts, secrets sealed and never
//! shown, posts to an endpoint delivered and signed with its own secret
//! without the customer's consent, and a customer-facing webhook still
//! refused without it.

mod support;

use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{
    Channel, DeleteIntegrationEndpointRequest, GetIntegrationEndpointRequest, IntegrationEndpoint,
    ListIntegrationEndpointsRequest, NotificationStatus, PutIntegrationEndpointRequest,
    SendNotificationRequest,
};
use support::{
    Client, Receiver, client, customer, profiles, rotate, send, server, settled, stop, store,
    stored, tenant_key, texts, verify, webhook, worker,
};
use tonic::Code;

rapport_kit::backend_tests!(
    endpoints_are_registered_by_name_and_puts_are_idempotent,
    a_post_to_an_endpoint_needs_no_consent_and_is_signed_with_its_secret,
    bad_endpoints_and_posts_are_refused_naming_the_field,
);

const SECRET: &str = "crm-secret-0123456789abcdef0123456789";
const OTHER_SECRET: &str = "crm-secret-fedcba9876543210fedcba9876";

fn put(name: &str, url: &str, secret: &str) -> PutIntegrationEndpointRequest {
    PutIntegrationEndpointRequest {
        endpoint: Some(IntegrationEndpoint {
            name: name.into(),
            url: url.into(),
            description: "Our CRM's event intake".into(),
            ..Default::default()
        }),
        signing_secret: secret.into(),
    }
}

fn post(dedupe_key: &str, customer_id: &str, endpoint: &str) -> SendNotificationRequest {
    SendNotificationRequest {
        dedupe_key: dedupe_key.into(),
        customer_id: customer_id.into(),
        integration_endpoint: endpoint.into(),
        subject: "rule fired".into(),
        body: "{\"rule\":\"big purchase\"}".into(),
        ..Default::default()
    }
}

async fn get(c: &mut Client, name: &str) -> Result<IntegrationEndpoint, tonic::Status> {
    c.get_integration_endpoint(GetIntegrationEndpointRequest { name: name.into() })
        .await
        .map(|r| r.into_inner().endpoint.expect("endpoint"))
}

async fn endpoints_are_registered_by_name_and_puts_are_idempotent(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let mut c = client(&ts, &tenant_key(&ts, "acme").await);
    let mut other = client(&ts, &tenant_key(&ts, "globex").await);
    let url = "http://127.0.0.1:9/crm";

    let first = ok(c.put_integration_endpoint(put("crm", url, SECRET))).await;
    assert!(first.created && !first.changed);
    let saved = first.endpoint.expect("endpoint");
    assert_eq!((saved.name.as_str(), saved.url.as_str()), ("crm", url));
    // The same put again, and a put without a secret, change nothing.
    let again = ok(c.put_integration_endpoint(put("crm", url, SECRET))).await;
    assert!(!again.created && !again.changed);
    let keep = ok(c.put_integration_endpoint(put("crm", url, ""))).await;
    assert!(!keep.created && !keep.changed);
    assert_eq!(keep.endpoint, Some(saved.clone()));
    // A new URL or secret changes it; only a new secret moves secret_set_at.
    let moved = ok(c.put_integration_endpoint(put("crm", "http://127.0.0.1:9/v2", ""))).await;
    assert!(moved.changed);
    let moved = moved.endpoint.unwrap();
    assert_eq!(moved.url, "http://127.0.0.1:9/v2");
    assert_eq!(moved.secret_set_at, saved.secret_set_at);
    assert_eq!(moved.created_at, saved.created_at);
    let rotated = ok(c.put_integration_endpoint(put("crm", "http://127.0.0.1:9/v2", OTHER_SECRET)))
        .await
        .endpoint
        .unwrap();
    let seconds = |t: &Option<prost_types::Timestamp>| {
        let t = t.as_ref().expect("time");
        (t.seconds, t.nanos)
    };
    assert!(seconds(&rotated.secret_set_at) > seconds(&saved.secret_set_at));
    assert_eq!(get(&mut c, "crm").await.unwrap(), rotated);

    // A new endpoint needs a secret.
    let e = c
        .put_integration_endpoint(put("warehouse", url, ""))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("signing_secret"), "{}", e.message());
    ok(c.put_integration_endpoint(put("warehouse", url, SECRET))).await;
    let listed = ok(c.list_integration_endpoints(ListIntegrationEndpointsRequest {})).await;
    let names: Vec<_> = listed.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["crm", "warehouse"]);

    // Another tenant sees none of them.
    assert_eq!(
        get(&mut other, "crm").await.unwrap_err().code(),
        Code::NotFound
    );
    let theirs = ok(other.list_integration_endpoints(ListIntegrationEndpointsRequest {})).await;
    assert!(theirs.endpoints.is_empty());

    // Secrets are sealed at rest: no stored value holds one.
    let db = store(&ts).await;
    let sealed = texts(&db, "SELECT secret FROM integration_endpoints").await;
    assert_eq!(sealed.len(), 2);
    for value in &sealed {
        assert!(
            !value.contains(SECRET) && !value.contains(OTHER_SECRET),
            "{value}"
        );
    }

    let deleted = ok(
        c.delete_integration_endpoint(DeleteIntegrationEndpointRequest {
            name: "warehouse".into(),
        }),
    )
    .await;
    assert!(deleted.deleted);
    let twice = ok(
        c.delete_integration_endpoint(DeleteIntegrationEndpointRequest {
            name: "warehouse".into(),
        }),
    )
    .await;
    assert!(!twice.deleted);
    assert_eq!(
        get(&mut c, "warehouse").await.unwrap_err().code(),
        Code::NotFound
    );
    ts.stop().await;
}

async fn a_post_to_an_endpoint_needs_no_consent_and_is_signed_with_its_secret(backend: Backend) {
    let ts = server(backend, |_| {}).await;
    let key = tenant_key(&ts, "acme").await;
    let (mut notify, mut people) = (client(&ts, &key), profiles(&ts, &key));
    let receiver = Receiver::start().await;
    // The tenant's webhook secret exists too: integration posts must not use it.
    let tenant_secret = rotate(&mut notify).await;
    ok(notify.put_integration_endpoint(put("crm", &receiver.url("/crm"), SECRET))).await;
    let nobody = customer(&mut people, "No Consent", "", "", &[], &[]).await;
    let workers = vec![worker(&ts)];

    // The same customer, no consent on any channel: the customer-facing
    // webhook is suppressed, the integration post is delivered.
    let refused = stored(
        &mut notify,
        webhook("facing", &nobody, &receiver.url("/theirs")),
    )
    .await;
    assert_eq!(refused.status, NotificationStatus::Suppressed as i32);
    assert_eq!(refused.suppressed_reason, "NO_CONSENT");
    let id = send(&mut notify, post("crm-1", &nobody, "crm")).await;
    let n = settled(&mut notify, &id).await;
    assert_eq!(n.status, NotificationStatus::Delivered as i32, "{n:?}");
    assert_eq!(n.integration_endpoint, "crm");
    assert_eq!(n.channel, Channel::Webhook as i32);
    assert_eq!(n.destination, receiver.url("/crm"));
    // The same dedupe key again sends nothing more.
    let again = ok(notify.send_notification(post("crm-1", &nobody, "crm"))).await;
    assert!(!again.created);
    // Once the endpoint is deleted, posts to it are refused.
    ok(notify.delete_integration_endpoint(DeleteIntegrationEndpointRequest { name: "crm".into() }))
        .await;
    let refused = notify
        .send_notification(post("crm-2", &nobody, "crm"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        rapport_kit::testing::reason(&refused),
        "INTEGRATION_ENDPOINT_NOT_FOUND"
    );
    assert!(
        refused.message().contains("\"crm\""),
        "{}",
        refused.message()
    );
    stop(ts, workers).await;

    let call = receiver.only_call();
    assert_eq!(call.path, "/crm");
    assert_eq!(call.json()["customer_id"], nobody.as_str());
    assert_eq!(call.json()["body"], "{\"rule\":\"big purchase\"}");
    let signature = call.header("rapport-signature");
    let now = chrono::Utc::now().timestamp();
    assert_eq!(verify(SECRET, signature, &call.body, now), Ok(()));
    assert_eq!(
        verify(&tenant_secret, signature, &call.body, now),
        Err("bad signature")
    );
}

async fn bad_endpoints_and_posts_are_refused_naming_the_field(backend: Backend) {
    let ts = server(backend, |c| c.allow_private_destinations = false).await;
    let mut c = client(&ts, &tenant_key(&ts, "acme").await);
    let fields = |s: tonic::Status| {
        let mut f = rapport_kit::testing::bad_fields(&s);
        f.sort();
        f
    };
    let e = c
        .put_integration_endpoint(put("CRM hook", "ftp://crm.example.com", "short"))
        .await
        .unwrap_err();
    assert_eq!(
        fields(e),
        ["endpoint.name", "endpoint.url", "signing_secret"]
    );
    // Non-public addresses are refused while private destinations are off.
    let e = c
        .put_integration_endpoint(put("crm", "http://10.0.0.7/hook", SECRET))
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["endpoint.url"]);
    ok(c.put_integration_endpoint(put("crm", "https://crm.example.com/hook", SECRET))).await;
    // A post names the endpoint and nothing else about where it goes.
    let mut bad = post("k", "", "crm");
    bad.destination = "https://elsewhere.example.com".into();
    bad.channel = Channel::Email as i32;
    let e = c.send_notification(bad).await.unwrap_err();
    assert_eq!(fields(e), ["channel", "destination"]);
    let e = c
        .send_notification(post("k", "", "no such"))
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["integration_endpoint"]);
    let e = c
        .send_notification(post("k", "", "unknown"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    ts.stop().await;
}
