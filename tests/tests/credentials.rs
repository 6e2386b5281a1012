//! Each service's internal credential is allowed only the calls that service
//! makes, and a credential can be rotated without downtime: during the
//! overlap the old and the new value both work, after it only the new one.

use rapport_kit::{
    backend_tests,
    config::{Config, Secret},
    internal::InternalCredentials,
    peers::PeerClients,
    testing::{self, Backend, TestServer},
};
use rapport_proto::v1::{
    ApplyChangesRequest, GetScoreRequest, UpdateScoringSettingsRequest,
    scoring_service_client::ScoringServiceClient,
};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

const OLD: &str = "ingestion-old-0123456789";
const NEW: &str = "ingestion-new-0123456789";

/// A scoring server whose configuration gives ingestion `tokens`.
async fn scoring(config: &Config, tokens: &str) -> TestServer {
    let mut config = config.clone();
    config.set("internal_tokens.ingestion", tokens).unwrap();
    let cache = rapport_scoring::cache_from_config(&config).await.unwrap();
    TestServer::start(config, move |app, server, addr| {
        // Peers are never called here; they point at this server.
        let peers = PeerClients::new(&app.config).or_at(format!("http://{addr}"));
        let db = app.db(rapport_scoring::SCHEMA)?;
        let (profiles, notifications) = (peers.profiles()?, peers.notifications()?);
        rapport_scoring::add_to(server, app, db, cache, profiles, notifications);
        Ok(())
    })
    .await
}

fn as_ingestion(token: &str) -> InternalCredentials {
    InternalCredentials::new(Secret::new(token))
}

fn apply() -> ApplyChangesRequest {
    ApplyChangesRequest { changes: vec![] }
}

async fn apply_with(client: &mut ScoringServiceClient<Channel>, token: &str, tenant: Uuid) -> Code {
    let request = as_ingestion(token).request(tenant, None, apply());
    match client.apply_changes(request).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

async fn ingestion_may_deliver_changes_and_nothing_else(backend: Backend) {
    let config = testing::config(backend).await;
    let ts = scoring(&config, NEW).await;
    let (tenant, api_key) = ts.tenant("acme", "EUR").await;
    let mut client = ScoringServiceClient::new(ts.channel());
    let ingestion = as_ingestion(NEW);

    assert_eq!(apply_with(&mut client, NEW, tenant.id).await, Code::Ok);
    let settings = ingestion.request(tenant.id, None, UpdateScoringSettingsRequest::default());
    let err = client.update_scoring_settings(settings).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("UpdateScoringSettings"), "{err:?}");
    let score = GetScoreRequest {
        customer_id: Uuid::new_v4().to_string(),
    };
    let err = client
        .get_score(ingestion.request(tenant.id, None, score))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // A tenant's API key cannot deliver changes either.
    let mut request = tonic::Request::new(apply());
    let bearer = format!("Bearer {api_key}").parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    let err = client.apply_changes(request).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    ts.stop().await;
}

async fn a_rotated_credential_overlaps_then_the_old_one_is_refused(backend: Backend) {
    let config = testing::config(backend).await;
    // During the overlap every receiver accepts both values.
    let overlap = scoring(&config, &format!("{NEW},{OLD}")).await;
    let (tenant, _) = overlap.tenant("acme", "EUR").await;
    let mut client = ScoringServiceClient::new(overlap.channel());
    assert_eq!(apply_with(&mut client, OLD, tenant.id).await, Code::Ok);
    assert_eq!(apply_with(&mut client, NEW, tenant.id).await, Code::Ok);
    overlap.stop().await;

    // Once the old value is removed, only the new one works.
    let after = scoring(&config, NEW).await;
    let mut client = ScoringServiceClient::new(after.channel());
    assert_eq!(apply_with(&mut client, NEW, tenant.id).await, Code::Ok);
    assert_eq!(
        apply_with(&mut client, OLD, tenant.id).await,
        Code::Unauthenticated
    );
    after.stop().await;
}

backend_tests!(
    ingestion_may_deliver_changes_and_nothing_else,
    a_rotated_credential_overlaps_then_the_old_one_is_refused,
);
