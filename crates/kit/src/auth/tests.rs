//! Keys managed over `TenantsService`, and revocation seen by every server
//! on the same registry within a second.

use std::time::{Duration, Instant};

use rapport_proto::v1::{
    CreateApiKeyRequest, ListApiKeysRequest, RevokeApiKeyRequest,
    tenants_service_client::TenantsServiceClient,
};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};

use crate::{
    internal::{BearerAuth, InternalCredentials},
    testing::{self, Backend, TestServer, bad_fields, ok},
};

type Client = TenantsServiceClient<InterceptedService<Channel, BearerAuth>>;

fn client(server: &TestServer, key: &str) -> Client {
    TenantsServiceClient::with_interceptor(server.channel(), BearerAuth::new(key).unwrap())
}

/// A server with nothing but the key service the kit adds to every server.
async fn server(config: crate::config::Config) -> TestServer {
    TestServer::start(config, |_, _, _| Ok(())).await
}

fn list() -> ListApiKeysRequest {
    ListApiKeysRequest::default()
}

async fn a_revoked_key_is_refused_by_every_server_within_a_second(backend: Backend) {
    let config = testing::config(backend).await;
    // Two servers (two caches) on the same registry, as two replicas.
    let (a, b) = (server(config.clone()).await, server(config).await);
    let (_, admin) = a.tenant("acme", "EUR").await;
    let created = ok(client(&a, &admin).create_api_key(CreateApiKeyRequest {
        request_id: "ci-key".into(),
        label: "ci".into(),
    }))
    .await;
    let key = created.key.expect("key");
    assert!(created.created && created.secret.starts_with(&key.prefix));
    // Both servers accept the new key, and now hold it in their caches.
    for s in [&a, &b] {
        ok(client(s, &created.secret).list_api_keys(list())).await;
    }

    let revoked = ok(client(&a, &admin).revoke_api_key(RevokeApiKeyRequest {
        key_id: key.id.clone(),
    }))
    .await;
    assert!(revoked.key.unwrap().revoked_at.is_some());
    let refused = client(&a, &created.secret).list_api_keys(list()).await;
    assert_eq!(
        refused.unwrap_err().code(),
        Code::Unauthenticated,
        "at once where revoked"
    );
    let started = Instant::now();
    loop {
        match client(&b, &created.secret).list_api_keys(list()).await {
            Err(s) if s.code() == Code::Unauthenticated => break,
            answer => assert!(
                started.elapsed() < Duration::from_secs(1),
                "the other server still answers the revoked key after 1 s: {answer:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The key that revoked it still works on both.
    for s in [&a, &b] {
        ok(client(s, &admin).list_api_keys(list())).await;
    }
    a.stop().await;
    b.stop().await;
}

async fn a_tenant_manages_only_its_own_keys(backend: Backend) {
    let ts = server(testing::config(backend).await).await;
    let (_, acme) = ts.tenant("acme", "EUR").await;
    let (_, globex) = ts.tenant("globex", "EUR").await;
    let mut acme_keys = client(&ts, &acme);
    let request = || CreateApiKeyRequest {
        request_id: "r1".into(),
        label: "import".into(),
    };
    let first = ok(acme_keys.create_api_key(request())).await;
    let again = ok(acme_keys.create_api_key(request())).await;
    assert!(
        !again.created && again.secret.is_empty(),
        "no second key, no secret"
    );
    assert_eq!(again.key.unwrap().id, first.key.as_ref().unwrap().id);
    let id = first.key.unwrap().id;

    let listed = ok(acme_keys.list_api_keys(list())).await.keys;
    let labels: Vec<&str> = listed.iter().map(|k| k.label.as_str()).collect();
    assert_eq!(labels, ["initial", "import"]);
    assert!(listed.iter().all(|k| k.prefix.starts_with("rpk_")));

    // Another tenant neither sees nor revokes it.
    let mut globex_keys = client(&ts, &globex);
    let theirs = ok(globex_keys.list_api_keys(list())).await.keys;
    assert!(theirs.iter().all(|k| k.id != id), "{theirs:?}");
    let err = globex_keys
        .revoke_api_key(RevokeApiKeyRequest { key_id: id.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    ok(client(&ts, &first.secret).list_api_keys(list())).await;

    // Bad input names the field.
    let err = acme_keys
        .revoke_api_key(RevokeApiKeyRequest {
            key_id: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["key_id"]);
    let err = acme_keys
        .create_api_key(CreateApiKeyRequest::default())
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["request_id"]);

    // Internal credentials do not manage keys.
    let token = ts.config.internal_token.clone().unwrap();
    let tenant = ts
        .app
        .auth
        .tenants()
        .by_name("acme")
        .await
        .unwrap()
        .unwrap();
    let request = InternalCredentials::new(token).request(tenant.id, None, list());
    let err = TenantsServiceClient::new(ts.channel())
        .list_api_keys(request)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    ts.stop().await;
}

crate::backend_tests!(
    a_revoked_key_is_refused_by_every_server_within_a_second,
    a_tenant_manages_only_its_own_keys,
);
