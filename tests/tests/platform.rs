//! What every service does regardless of its domain: health that follows the
//! database, reflection in both protocol versions, authentication, load
//! shedding.

use std::time::Duration;

use rapport_kit::{
    config::Secret,
    internal::{BearerAuth, lazy_channel},
    testing::{self, Backend, TestServer, ok},
};
use rapport_proto::v1::{
    GetCustomerRequest, IngestTransactionsRequest,
    ingestion_service_client::IngestionServiceClient,
    profiles_service_client::ProfilesServiceClient,
};
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const PROFILES: &str = "rapport.v1.ProfilesService";

/// The response-kind enums of the two reflection protocol versions.
mod v1 {
    pub use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
}
mod v1alpha {
    pub use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
}

/// Asks the reflection service on `$channel` one question, in protocol
/// version `$version` (the two versions' types differ, hence a macro).
macro_rules! reflect {
    ($version:ident, $channel:expr, $question:ident($arg:expr)) => {{
        use tonic_reflection::pb::$version::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest,
        };
        let mut client = ServerReflectionClient::new($channel);
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::$question($arg)),
        };
        let mut stream = ok(client.server_reflection_info(tokio_stream::once(req))).await;
        stream.message().await.unwrap().unwrap()
    }};
}

/// A request for a customer nobody has.
fn any_customer() -> GetCustomerRequest {
    GetCustomerRequest {
        customer_id: uuid::Uuid::new_v4().to_string(),
    }
}

async fn health(url: &str, service: &str) -> i32 {
    let mut client = HealthClient::new(lazy_channel(url, Duration::from_secs(5)).unwrap());
    ok(client.check(HealthCheckRequest {
        service: service.into(),
    }))
    .await
    .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_serving_while_the_database_is_down() {
    let mut config = testing::config(Backend::Postgres).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    config.database_url = Some(Secret::new(format!(
        "postgres://postgres@127.0.0.1:{closed}/nowhere"
    )));
    let app = rapport_kit::app::App::new(config.clone(), false).unwrap();
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut server = app.server();
    rapport_profiles::add_to(&mut server, app.db(rapport_profiles::SCHEMA).unwrap());
    let task = tokio::spawn(server.serve(listener, app.shutdown.clone()));

    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(health(&url, "").await, 2, "overall NOT_SERVING");
    assert_eq!(health(&url, PROFILES).await, 2, "profiles NOT_SERVING");
    // A call needing the database is refused as retryable, not as an internal error.
    let auth = BearerAuth::new("rpk_anything").unwrap();
    let mut profiles = ProfilesServiceClient::with_interceptor(
        lazy_channel(&url, Duration::from_secs(10)).unwrap(),
        auth,
    );
    let err = profiles.get_customer(any_customer()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");

    app.shutdown.trigger();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reflection_and_authentication() {
    let ts = TestServer::start(testing::config(Backend::Sqlite).await, |app, server, _| {
        rapport_profiles::add_to(server, app.db(rapport_profiles::SCHEMA)?);
        Ok(())
    })
    .await;
    assert_eq!(
        health(&ts.url(), PROFILES).await,
        1,
        "SERVING once migrated"
    );

    // Reflection answers without credentials, in v1 and in v1alpha.
    let resp = reflect!(v1, ts.channel(), ListServices(String::new()));
    let Some(v1::MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("{resp:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&PROFILES.to_owned()), "{names:?}");
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    let resp = reflect!(v1alpha, ts.channel(), FileContainingSymbol(PROFILES.into()));
    let Some(v1alpha::MessageResponse::FileDescriptorResponse(files)) = resp.message_response
    else {
        panic!("{resp:?}")
    };
    assert!(!files.file_descriptor_proto.is_empty());

    // Everything else needs a valid key.
    let mut anonymous = ProfilesServiceClient::new(ts.channel());
    let err = anonymous.get_customer(any_customer()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let auth = BearerAuth::new("rpk_not_a_key").unwrap();
    let mut forged = ProfilesServiceClient::with_interceptor(ts.channel(), auth);
    let err = forged.get_customer(any_customer()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    // A revoked key stops working at once, though the authenticator had
    // cached it.
    let tenants = ts.app.auth.tenants();
    let (tenant, key) = tenants.create("acme", "EUR").await.unwrap();
    let mut revoked =
        ProfilesServiceClient::with_interceptor(ts.channel(), BearerAuth::new(&key).unwrap());
    let err = revoked.get_customer(any_customer()).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "the key works");
    let (keys, _) = tenants.list_keys(tenant.id, 10, "").await.unwrap();
    tenants.revoke_key(tenant.id, keys[0].id).await.unwrap();
    let err = revoked.get_customer(any_customer()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_refused_at_once() {
    let mut config = testing::config(Backend::Sqlite).await;
    config.max_concurrent_requests = 1;
    let ts =
        rapport_tests::ingestion_alone(config, "http://127.0.0.1:9".into(), Duration::from_secs(1))
            .await;
    let (_, key) = ts.tenant("acme", "EUR").await;
    let auth = BearerAuth::new(&key).unwrap();
    let mut ingestion = IngestionServiceClient::with_interceptor(ts.channel(), auth);

    // A client stream that stays open holds the only slot.
    let (tx, rx) = tokio::sync::mpsc::channel::<IngestTransactionsRequest>(1);
    let mut held = ingestion.clone();
    let open = tokio::spawn(async move {
        held.stream_transactions(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let err = ingestion
        .ingest_transactions(IngestTransactionsRequest {
            transactions: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");

    drop(tx);
    let summary = open.await.unwrap().unwrap().into_inner();
    assert_eq!(summary.accepted, 0);
    // The slot is free again.
    let ok = ingestion
        .ingest_transactions(IngestTransactionsRequest {
            transactions: vec![],
        })
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    ts.stop().await;
}
