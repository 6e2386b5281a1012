//! Typed clients for a running suite, authenticated with a tenant API key.

use std::time::Duration;

use rapport_kit::{
    config::Tls,
    internal::{BearerAuth, endpoint},
    peers,
};
use rapport_proto::limits::CONTROL_MAX_BYTES;
use rapport_proto::v1::{
    ListScoresRequest, Score, ScoreOrder, admin_service_client::AdminServiceClient,
    ingestion_service_client::IngestionServiceClient, loyalty_service_client::LoyaltyServiceClient,
    notifications_service_client::NotificationsServiceClient,
    opportunities_service_client::OpportunitiesServiceClient,
    profiles_service_client::ProfilesServiceClient, reports_service_client::ReportsServiceClient,
    rules_service_client::RulesServiceClient,
    score_changes_service_client::ScoreChangesServiceClient,
    scoring_service_client::ScoringServiceClient, tenants_service_client::TenantsServiceClient,
};
use tonic::{
    service::interceptor::InterceptedService,
    transport::{Channel, ClientTlsConfig, Identity},
};

/// A channel with the tenant's key on every call.
pub type Authed = InterceptedService<Channel, BearerAuth>;

/// Clients for all four services.
#[derive(Clone)]
pub struct Clients {
    /// Profiles.
    pub profiles: ProfilesServiceClient<Authed>,
    /// Ingestion.
    pub ingestion: IngestionServiceClient<Authed>,
    /// Scoring.
    pub scoring: ScoringServiceClient<Authed>,
    /// Notifications.
    pub notifications: NotificationsServiceClient<Authed>,
    /// Business rules (served by the scoring service).
    pub rules: RulesServiceClient<Authed>,
    /// The score change feed and its subscriptions (served by the scoring
    /// service).
    pub score_changes: ScoreChangesServiceClient<Authed>,
    /// ReportsService, hosted by the scoring service.
    pub reports: ReportsServiceClient<Authed>,
    /// LoyaltyService (points), hosted by the scoring service.
    pub loyalty: LoyaltyServiceClient<Authed>,
    /// OpportunitiesService (B2B pipeline), hosted by the ingestion service.
    pub opportunities: OpportunitiesServiceClient<Authed>,
    /// The tenant's keys and audit trail (served by every service; reached
    /// at the profiles address).
    pub tenants: TenantsServiceClient<Authed>,
}

/// Largest message the clients send or accept.
const MAX_MESSAGE: usize = 32 << 20;

impl Clients {
    /// Clients of the suite at `url`, authenticating with `api_key`.
    pub fn connect(url: &str, api_key: &str) -> anyhow::Result<Clients> {
        Clients::connect_each(url, url, url, url, api_key)
    }

    /// [`Clients::connect`] reaching an `https://` URL with `tls`: trusting
    /// its `ca_file` (without one, the bundled public roots of webpki-roots),
    /// presenting its client certificate when set.
    pub fn connect_over(url: &str, api_key: &str, tls: &Tls) -> anyhow::Result<Clients> {
        Clients::build([url; 4], api_key, tls)
    }

    /// Clients of services listening at different addresses.
    pub fn connect_each(
        profiles: &str,
        ingestion: &str,
        scoring: &str,
        notifications: &str,
        api_key: &str,
    ) -> anyhow::Result<Clients> {
        let urls = [profiles, ingestion, scoring, notifications];
        Clients::build(urls, api_key, &Tls::default())
    }

    fn build(urls: [&str; 4], api_key: &str, tls: &Tls) -> anyhow::Result<Clients> {
        let [profiles, ingestion, scoring, notifications] = urls;
        let channel = |url: &str| channel(url, tls, Duration::from_secs(120));
        let auth = BearerAuth::new(api_key)
            .map_err(|_| anyhow::anyhow!("the api key is not valid ASCII"))?;
        Ok(Clients {
            profiles: ProfilesServiceClient::with_interceptor(channel(profiles)?, auth.clone())
                .max_encoding_message_size(MAX_MESSAGE)
                .max_decoding_message_size(MAX_MESSAGE),
            ingestion: IngestionServiceClient::with_interceptor(channel(ingestion)?, auth.clone())
                .max_encoding_message_size(MAX_MESSAGE)
                .max_decoding_message_size(MAX_MESSAGE),
            scoring: ScoringServiceClient::with_interceptor(channel(scoring)?, auth.clone())
                .max_decoding_message_size(MAX_MESSAGE),
            notifications: NotificationsServiceClient::with_interceptor(
                channel(notifications)?,
                auth.clone(),
            )
            .max_encoding_message_size(CONTROL_MAX_BYTES),
            rules: RulesServiceClient::with_interceptor(channel(scoring)?, auth.clone())
                .max_encoding_message_size(CONTROL_MAX_BYTES),
            score_changes: ScoreChangesServiceClient::with_interceptor(
                channel(scoring)?,
                auth.clone(),
            )
            .max_encoding_message_size(CONTROL_MAX_BYTES),
            reports: ReportsServiceClient::with_interceptor(channel(scoring)?, auth.clone())
                .max_encoding_message_size(CONTROL_MAX_BYTES)
                .max_decoding_message_size(MAX_MESSAGE),
            loyalty: LoyaltyServiceClient::with_interceptor(channel(scoring)?, auth.clone())
                .max_encoding_message_size(CONTROL_MAX_BYTES),
            opportunities: OpportunitiesServiceClient::with_interceptor(
                channel(ingestion)?,
                auth.clone(),
            )
            .max_encoding_message_size(MAX_MESSAGE)
            .max_decoding_message_size(MAX_MESSAGE),
            tenants: TenantsServiceClient::with_interceptor(channel(profiles)?, auth)
                .max_encoding_message_size(CONTROL_MAX_BYTES),
        })
    }
}

/// A client of `AdminService` at `url` (over `tls` for `https://`),
/// authenticating with the operator's `admin_token`.
pub fn admin_client(
    url: &str,
    admin_token: &str,
    tls: &Tls,
) -> anyhow::Result<AdminServiceClient<Authed>> {
    let auth = BearerAuth::new(admin_token)
        .map_err(|_| anyhow::anyhow!("the admin token is not valid ASCII"))?;
    let channel = channel(url, tls, Duration::from_secs(30))?;
    Ok(AdminServiceClient::with_interceptor(channel, auth))
}

/// A channel to `url`, as [`peers::channel`] makes one, except that an
/// `https://` URL without a CA file trusts the public roots: a suite behind
/// a certificate from a public CA needs no `--ca-cert`.
fn channel(url: &str, tls: &Tls, timeout: Duration) -> anyhow::Result<Channel> {
    if !url.starts_with("https://") || tls.ca_file.is_some() {
        return peers::channel(url, tls, timeout);
    }
    let roots = webpki_roots::TLS_SERVER_ROOTS.iter().cloned();
    let mut config = ClientTlsConfig::new().trust_anchors(roots);
    if let Some(pair) = tls.client_pem()? {
        config = config.identity(Identity::from_pem(pair.cert, pair.key));
    }
    Ok(endpoint(url)?
        .timeout(timeout)
        .tls_config(config)?
        .connect_lazy())
}

/// What to do about a call that failed in the TLS handshake, when `status`
/// is such a failure: the server's certificate is not trusted, or the
/// server wants a client certificate. Retrying cannot help either.
pub fn tls_failure(status: &tonic::Status) -> Option<String> {
    let mut causes = Vec::new();
    let mut cause = std::error::Error::source(status);
    while let Some(e) = cause {
        let text = e.to_string();
        if causes.last() != Some(&text) {
            causes.push(text);
        }
        cause = e.source();
    }
    let text = causes.join(": ");
    let lower = text.to_ascii_lowercase();
    if !lower.contains("certificate") {
        return None;
    }
    let fix = if lower.contains("certificaterequired") || lower.contains("certificate required") {
        "the server requires a client certificate: pass --client-cert and --client-key \
         (RAPPORT_CLIENT_CERT, RAPPORT_CLIENT_KEY) signed by the CA it trusts"
    } else {
        "the server's TLS certificate is not trusted: pass --ca-cert (RAPPORT_CA_CERT), \
         the PEM file of the CA it chains to"
    };
    Some(format!("{fix} ({text})"))
}

/// Waits until the server at `url` reports overall health SERVING.
pub async fn wait_serving(url: &str, within: Duration) -> anyhow::Result<()> {
    wait_serving_over(url, &Tls::default(), within).await
}

/// [`wait_serving`] reaching an `https://` URL with `tls`.
pub async fn wait_serving_over(url: &str, tls: &Tls, within: Duration) -> anyhow::Result<()> {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let mut client = HealthClient::new(peers::channel(url, tls, Duration::from_secs(5))?);
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Ok(r) = client
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            && r.into_inner().status == 1
        {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("{url} did not become SERVING within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A status as a person reads it: the message and every field violation.
pub fn describe(status: tonic::Status) -> anyhow::Error {
    use tonic_types::StatusExt;
    let mut text = format!("{}: {}", status.code(), status.message());
    if let Some(fix) = tls_failure(&status) {
        text.push_str(&format!("\n  {fix}"));
    }
    if let Some(bad) = status.get_details_bad_request() {
        for v in bad.field_violations {
            text.push_str(&format!("\n  {}: {}", v.field, v.description));
        }
    }
    anyhow::anyhow!(text)
}

/// The message of a call's answer, or its status as a person reads it.
pub fn answer<T>(result: Result<tonic::Response<T>, tonic::Status>) -> anyhow::Result<T> {
    result.map(tonic::Response::into_inner).map_err(describe)
}

/// Hands `each` every page of the tenant's scores, highest net spend first.
pub async fn each_score_page(
    scoring: &mut ScoringServiceClient<Authed>,
    mut each: impl FnMut(Vec<Score>),
) -> Result<(), tonic::Status> {
    let mut token = String::new();
    loop {
        let page = scoring
            .list_scores(ListScoresRequest {
                order_by: ScoreOrder::NetSpend as i32,
                page_size: 1_000,
                page_token: token,
            })
            .await?
            .into_inner();
        each(page.scores);
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        token = page.next_page_token;
    }
}
