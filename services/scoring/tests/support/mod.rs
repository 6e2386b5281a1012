//! Shared by the scoring test suites: a started server, clients for an API
//! key and for the internal credential, and hand-built changes.
#![allow(dead_code)]

pub mod population;
pub mod rules;

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, TimeZone, Utc};
use rapport_cache::VersionedCache;
use rapport_kit::{
    app::App,
    config::Config,
    internal::BearerAuth,
    peers::PeerClients,
    server::Server,
    tenants::Tenant,
    testing::{self, Backend, TestServer},
};
use rapport_proto::v1::{
    ApplyChangesRequest, ApplyChangesResponse, ChangeEvent, FitModelsRequest, FitModelsResponse,
    FittedModel, GetModelFitRequest, GetScoreRequest, InteractionChange, ModelFit, ModelKind,
    Money, Score, change_event, scoring_service_client::ScoringServiceClient,
};
use rapport_scoring::{RefreshOptions, RulesOptions};
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

// Not every test binary reads statuses.
#[allow(unused_imports)]
pub use rapport_kit::testing::{bad_fields, reason};

/// An amount in euros, as scores carry it.
pub fn eur(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "EUR".into(),
        minor_units,
    })
}

/// GetScore: the score and its source.
pub async fn get(client: &mut ApiClient, customer: Uuid) -> Result<(Score, i32), tonic::Status> {
    let request = GetScoreRequest {
        customer_id: customer.to_string(),
    };
    let r = client.get_score(request).await?.into_inner();
    Ok((r.score.expect("score"), r.source))
}

/// A client authenticated with a tenant's API key.
pub type ApiClient = ScoringServiceClient<InterceptedService<Channel, BearerAuth>>;

/// FitModels over the tenant's data up to today.
pub async fn fit_models(client: &mut ApiClient) -> Result<FitModelsResponse, tonic::Status> {
    let r = client.fit_models(FitModelsRequest::default()).await?;
    Ok(r.into_inner())
}

/// The fit FitModels made (or kept, over unchanged data).
pub async fn fitted(client: &mut ApiClient) -> ModelFit {
    fit_models(client).await.expect("fit").fit.expect("a fit")
}

/// The model of `kind` in `fit`.
pub fn model(fit: &ModelFit, kind: ModelKind) -> &FittedModel {
    let found = fit.models.iter().find(|m| m.kind == kind as i32);
    found.expect("model in fit")
}

/// Parameter `name` of the model of `kind` in `fit`.
pub fn param(fit: &ModelFit, kind: ModelKind, name: &str) -> f64 {
    let found = model(fit, kind).parameters.iter().find(|p| p.name == name);
    found.expect("parameter").value
}

/// The tenant's latest fit.
pub async fn latest_fit(client: &mut ApiClient) -> ModelFit {
    let r = client.get_model_fit(GetModelFitRequest::default()).await;
    r.expect("latest fit").into_inner().fit.expect("a fit")
}

/// A running scoring server and the cache it writes to.
pub struct Harness {
    pub ts: TestServer,
    pub cache: Arc<dyn VersionedCache>,
    /// The scoring service as assembled (runs rules rounds and refresh
    /// passes on demand).
    pub scoring: rapport_scoring::Scoring,
}

/// Starts the scoring service with `config`'s cache (Redis when configured),
/// and Profiles on the same server for wallet estimates. The background
/// refresh runs only when `refresh` is given.
pub async fn start_full(config: Config, refresh: Option<RefreshOptions>) -> Harness {
    start_all(config, refresh, None).await
}

/// As [`start_full`], with the rules worker when `rules` is given. The
/// notifications service runs on the same server (rules send through it).
pub async fn start_all(
    config: Config,
    refresh: Option<RefreshOptions>,
    rules: Option<RulesOptions>,
) -> Harness {
    start_inner(config, refresh, rules).await
}

/// As [`start_all`] without background jobs, rules sending to the
/// notifications service at `notifications_url` instead of its own.
pub async fn start_sending_to(mut config: Config, notifications_url: String) -> Harness {
    config.peers.notifications_url = Some(notifications_url);
    start_inner(config, None, None).await
}

/// Peers `config` does not place are this server's own services.
async fn start_inner(
    config: Config,
    refresh: Option<RefreshOptions>,
    rules: Option<RulesOptions>,
) -> Harness {
    let cache = rapport_scoring::cache_from_config(&config)
        .await
        .expect("cache");
    let for_server = cache.clone();
    let slot: Arc<std::sync::Mutex<Option<rapport_scoring::Scoring>>> = Arc::default();
    let scoring_slot = slot.clone();
    let ts = TestServer::start(config, move |app, server, addr| {
        let url = format!("http://{addr}");
        rapport_profiles::add_to(server, app.db(rapport_profiles::SCHEMA)?);
        add_notifications(app, server, &url)?;
        let own = PeerClients::new(&app.config).or_at(url);
        let db = app.db(rapport_scoring::SCHEMA)?;
        let scoring = rapport_scoring::add_to(
            server,
            app,
            db,
            for_server,
            own.profiles()?,
            own.notifications()?,
        );
        if let Some(options) = refresh {
            rapport_scoring::spawn_refresh(&scoring, options, app.shutdown.clone());
        }
        if let Some(options) = rules {
            rapport_scoring::spawn_rules(&scoring, options, app.shutdown.clone());
        }
        *scoring_slot.lock().unwrap() = Some(scoring);
        Ok(())
    })
    .await;
    let scoring = slot.lock().unwrap().take().expect("scoring service");
    Harness { ts, cache, scoring }
}

/// Adds the notifications service to `server`, calling the profiles and
/// scoring services at `url`.
pub fn add_notifications(app: &App, server: &mut Server, url: &str) -> anyhow::Result<()> {
    let clients = PeerClients::new(&app.config).or_at(url);
    let peers = rapport_notifications::connect_peers(&clients, &app.internal)?;
    let settings = app.config.section().expect("notify settings");
    let db = app.db(rapport_notifications::SCHEMA)?;
    rapport_notifications::add_to(server, db, &settings, peers);
    Ok(())
}

/// Starts the scoring service with `config`'s cache, without the background
/// refresh (tests fit on demand).
pub async fn start_with(config: Config) -> Harness {
    start_full(config, None).await
}

/// Starts the scoring service on `backend` with the in-process cache.
pub async fn start(backend: Backend) -> Harness {
    start_with(testing::config(backend).await).await
}

/// Starts the scoring service on `backend` with a tenant "acme" and a
/// client for its API key.
pub async fn start_acme(backend: Backend) -> (Harness, Tenant, ApiClient) {
    let h = start(backend).await;
    let (tenant, client) = h.tenant("acme").await;
    (h, tenant, client)
}

impl Harness {
    /// A client for `api_key`.
    pub fn api(&self, api_key: &str) -> ApiClient {
        ScoringServiceClient::with_interceptor(self.ts.channel(), BearerAuth::new(api_key).unwrap())
    }

    /// A new tenant `name` (in euros) and a client for its API key.
    pub async fn tenant(&self, name: &str) -> (Tenant, ApiClient) {
        let (tenant, key) = self.ts.tenant(name, "EUR").await;
        (tenant, self.api(&key))
    }

    /// Delivers `changes` for `tenant` as ingestion's relay would.
    pub async fn apply(
        &self,
        tenant: Uuid,
        changes: Vec<ChangeEvent>,
    ) -> Result<ApplyChangesResponse, tonic::Status> {
        let mut client = ScoringServiceClient::new(self.ts.channel());
        let request = self
            .ts
            .app
            .internal
            .request(tenant, None, ApplyChangesRequest { changes });
        client.apply_changes(request).await.map(|r| r.into_inner())
    }

    /// The cache key of a customer's score (the documented layout).
    pub fn key(&self, tenant: Uuid, customer: Uuid) -> String {
        let bucket = customer.as_bytes()[15] % 16;
        format!(
            "{}:{{{tenant}:{bucket:x}}}:score:{customer}",
            self.ts.config.cache_prefix
        )
    }
}

/// Noon UTC on a day.
pub fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

/// A transaction change without margin or cost, in category "general".
fn transaction(
    id: &str,
    customer: Uuid,
    purchase: bool,
    at: DateTime<Utc>,
    amount: i64,
) -> ChangeEvent {
    let txn = population::Txn {
        id: id.to_owned(),
        customer,
        purchase,
        at,
        amount,
        margin: None,
        cost: None,
        category: "general".to_owned(),
    };
    txn.event()
}

/// A purchase change.
pub fn purchase(id: &str, customer: Uuid, at: DateTime<Utc>, amount: i64) -> ChangeEvent {
    transaction(id, customer, true, at, amount)
}

/// A refund change.
pub fn refund(id: &str, customer: Uuid, at: DateTime<Utc>, amount: i64) -> ChangeEvent {
    transaction(id, customer, false, at, amount)
}

/// A visit change.
pub fn interaction(id: &str, customer: Uuid, at: DateTime<Utc>) -> ChangeEvent {
    interaction_of(id, customer, "visit", at, HashMap::new())
}

/// An interaction change of `kind` with `properties`.
pub fn interaction_of(
    id: &str,
    customer: Uuid,
    kind: &str,
    at: DateTime<Utc>,
    properties: HashMap<String, String>,
) -> ChangeEvent {
    ChangeEvent {
        id: id.to_owned(),
        customer_id: customer.to_string(),
        change: Some(change_event::Change::Interaction(InteractionChange {
            kind: kind.to_owned(),
            occurred_at: Some(rapport_kit::domain::chrono_to_timestamp(at)),
            properties,
        })),
    }
}

/// Applies `txns` in calls of `chunk` changes.
pub async fn apply_all(h: &Harness, tenant: Uuid, txns: &[population::Txn], chunk: usize) {
    for part in txns.chunks(chunk) {
        h.apply(tenant, part.iter().map(|t| t.event()).collect())
            .await
            .expect("apply");
    }
}
