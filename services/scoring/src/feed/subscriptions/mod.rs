//! Score change subscriptions: the feed's events delivered to one of the
//! tenant's registered integration endpoints as signed webhooks. Delivery
//! goes through the notifications service ([`deliver`]), so its queue,
//! retries with backoff, dead letters and endpoint signing apply; this side
//! only hands each event over exactly once, in log order.

mod deliver;
mod repo;

use std::time::Duration;

use chrono::Utc;
use rapport_kit::{
    ApiError, FieldErrors, TenantContext,
    domain::{check_handle, check_text, chrono_to_timestamp},
};
use rapport_proto::v1::{
    PutScoreChangeSubscriptionRequest, PutScoreChangeSubscriptionResponse, ScoreChangeKind,
    ScoreChangeSubscription,
};
use uuid::Uuid;

pub use repo::{MAX_PER_TENANT, Outcome, Stored, SubscriptionRepo, Wanted};

use super::{FeedRepo, watch::Start};
use crate::{
    error::{Error, storage, valid},
    rules::Rules,
};

/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 1_000;

/// Reason in the ErrorInfo of a subscription naming an endpoint the tenant
/// has not registered.
pub const INTEGRATION_ENDPOINT_NOT_FOUND: &str = "INTEGRATION_ENDPOINT_NOT_FOUND";

/// The subscriptions, their delivery, and what they deliver through.
#[derive(Clone)]
pub struct Subscriptions {
    pub(crate) repo: SubscriptionRepo,
    log: FeedRepo,
    /// The notifications client and internal credential rules post with.
    rules: Rules,
    /// This process, as the holder of its leases.
    owner: Uuid,
    /// Pause before looking again at a subscription that caught up.
    poll: Duration,
    /// Whether the feed records events (`feed.enabled`).
    enabled: bool,
}

/// A subscription as the API shows it.
fn shown(s: Stored) -> ScoreChangeSubscription {
    ScoreChangeSubscription {
        name: s.wanted.name,
        endpoint: s.wanted.endpoint,
        kinds: s.wanted.kinds,
        description: s.wanted.description,
        created_at: Some(chrono_to_timestamp(s.created_at)),
        updated_at: Some(chrono_to_timestamp(s.updated_at)),
        resume_token: s.at.token(),
        events_delivered: s.delivered.max(0) as u64,
        posts: s.posts.max(0) as u64,
        last_post_at: s.last_post_at.map(chrono_to_timestamp),
        last_error: s.last_error,
        last_error_at: s.last_error_at.map(chrono_to_timestamp),
        gap_at: s.gap_at.map(chrono_to_timestamp),
    }
}

/// The name of a Get or Delete.
pub fn name(value: &str) -> Result<&str, ApiError> {
    check_handle(value, "subscription").map_err(|r| ApiError::invalid("name", r))
}

/// What a put asks for, checked: every violation named by its field.
fn wanted(r: &PutScoreChangeSubscriptionRequest) -> Result<(Wanted, Start), Error> {
    let mut errors = FieldErrors::new();
    let Some(s) = &r.subscription else {
        errors.add("subscription", "required");
        return Err(Error::Invalid(errors));
    };
    let name = errors.check("subscription.name", check_handle(&s.name, "subscription"));
    let endpoint = errors.check(
        "subscription.endpoint",
        check_handle(&s.endpoint, "integration endpoint"),
    );
    let kinds = super::grpc::kinds("subscription.kinds", &s.kinds, &mut errors);
    let description = errors.check(
        "subscription.description",
        check_text(&s.description, MAX_DESCRIPTION * 4).and_then(|d| {
            if d.chars().count() > MAX_DESCRIPTION {
                Err(format!("is longer than {MAX_DESCRIPTION} characters"))
            } else {
                Ok(d)
            }
        }),
    );
    let start = super::grpc::start(r.start, &mut errors);
    valid(errors)?;
    Ok((
        Wanted {
            name: name.unwrap_or_default().to_owned(),
            endpoint: endpoint.unwrap_or_default().to_owned(),
            kinds: kinds.into_iter().collect(),
            description: description.unwrap_or_default().to_owned(),
        },
        start,
    ))
}

/// A storage failure of the subscriptions.
fn st() -> impl FnOnce(sqlx::Error) -> Error {
    storage("score change subscriptions")
}

/// The audit trail's view of a subscription: what the caller set.
fn summary(w: &Wanted) -> serde_json::Value {
    serde_json::json!({
        "endpoint": w.endpoint,
        "kinds": w.kinds.iter().map(|k| ScoreChangeKind::try_from(*k)
            .map(|k| k.as_str_name().to_owned())
            .unwrap_or_else(|_| k.to_string())).collect::<Vec<_>>(),
        "description": w.description,
    })
}

impl Subscriptions {
    /// Over the feed's log and the rules' notifications client.
    pub fn new(
        log: FeedRepo,
        repo: SubscriptionRepo,
        rules: Rules,
        poll: Duration,
        enabled: bool,
    ) -> Self {
        Subscriptions {
            repo,
            log,
            rules,
            owner: Uuid::now_v7(),
            poll,
            enabled,
        }
    }

    /// The pause between delivery rounds.
    pub fn poll(&self) -> Duration {
        self.poll
    }

    /// PutScoreChangeSubscription.
    pub async fn put(
        &self,
        ctx: &TenantContext,
        r: &PutScoreChangeSubscriptionRequest,
    ) -> Result<PutScoreChangeSubscriptionResponse, Error> {
        if !self.enabled {
            return Err(Error::Api(super::disabled()));
        }
        let tenant = ctx.tenant_id();
        let (wanted, start) = wanted(r)?;
        if !self
            .rules
            .endpoint_registered(tenant, &wanted.endpoint)
            .await?
        {
            return Err(Error::Api(ApiError::FailedPrecondition {
                reason: INTEGRATION_ENDPOINT_NOT_FOUND,
                message: format!(
                    "subscription.endpoint: no integration endpoint named {:?} is registered: \
                     register it with NotificationsService.PutIntegrationEndpoint (rapport \
                     endpoints put)",
                    wanted.endpoint
                ),
            }));
        }
        let before = self.repo.get(tenant, &wanted.name).await.map_err(st())?;
        let at = match start {
            Start::Oldest => self.log.horizon(tenant).await,
            _ => self.log.now(tenant).await,
        }
        .map_err(storage("score changes"))?;
        let now = rapport_kit::domain::from_micros(rapport_kit::domain::to_micros(Utc::now()));
        let (stored, outcome) = self
            .repo
            .put(tenant, &wanted, at, now)
            .await
            .map_err(st())?;
        if outcome == Outcome::Full {
            return Err(Error::Api(ApiError::ResourceExhausted(format!(
                "this tenant already has {MAX_PER_TENANT} score change subscriptions; delete one \
                 first"
            ))));
        }
        let stored = stored.ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "subscription {} gone after its put",
                wanted.name
            ))
        })?;
        if outcome != Outcome::Unchanged {
            tracing::info!(subscription = %wanted.name, ?outcome, "score change subscription saved");
            let target = format!("subscription:{}", wanted.name);
            let mut summary = serde_json::json!({ "after": summary(&wanted) });
            if let Some(b) = before.filter(|_| outcome == Outcome::Changed) {
                summary["before"] = self::summary(&b.wanted);
            }
            rapport_kit::audit::record(ctx, target, summary).await;
        }
        Ok(PutScoreChangeSubscriptionResponse {
            subscription: Some(shown(stored)),
            created: outcome == Outcome::Created,
            changed: outcome == Outcome::Changed,
        })
    }

    /// GetScoreChangeSubscription.
    pub async fn get(&self, tenant: Uuid, name: &str) -> Result<ScoreChangeSubscription, Error> {
        let found = self.repo.get(tenant, name).await.map_err(st())?;
        found.map(shown).ok_or_else(|| Error::NotFound {
            what: "score change subscription",
            id: name.to_owned(),
        })
    }

    /// ListScoreChangeSubscriptions.
    pub async fn list(&self, tenant: Uuid) -> Result<Vec<ScoreChangeSubscription>, Error> {
        let all = self.repo.list(tenant).await.map_err(st())?;
        Ok(all.into_iter().map(shown).collect())
    }

    /// DeleteScoreChangeSubscription; whether it existed.
    pub async fn delete(&self, ctx: &TenantContext, name: &str) -> Result<bool, Error> {
        let deleted = self
            .repo
            .delete(ctx.tenant_id(), name)
            .await
            .map_err(st())?;
        if deleted {
            tracing::info!(subscription = %name, "score change subscription deleted");
            let target = format!("subscription:{name}");
            rapport_kit::audit::record(ctx, target, serde_json::json!({ "deleted": true })).await;
        }
        Ok(deleted)
    }
}
