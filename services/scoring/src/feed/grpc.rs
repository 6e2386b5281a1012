//! The ScoreChangesService handler: the tenant from the credentials, the
//! request unpacked, the watch started.

use std::collections::{BTreeSet, HashSet};

use rapport_kit::{ApiError, FieldErrors, TenantContext};
use rapport_proto::v1::{
    DeleteScoreChangeSubscriptionRequest, DeleteScoreChangeSubscriptionResponse,
    GetScoreChangeSubscriptionRequest, GetScoreChangeSubscriptionResponse,
    ListScoreChangeSubscriptionsRequest, ListScoreChangeSubscriptionsResponse,
    PutScoreChangeSubscriptionRequest, PutScoreChangeSubscriptionResponse, ScoreChangeKind,
    WatchScoreChangesRequest, WatchStart, score_changes_service_server::ScoreChangesService,
};
use tonic::{Request, Response, Status};

use super::{
    Feed, Position, Subscriptions, subscriptions,
    watch::{Start, Watch},
};

/// The score change feed's service.
pub struct FeedApi {
    pub(crate) feed: Feed,
    pub(crate) subscriptions: Subscriptions,
}

/// Where a watch or a new subscription starts without a resume token.
pub(super) fn start(value: i32, errors: &mut FieldErrors) -> Start {
    match WatchStart::try_from(value) {
        Ok(WatchStart::Unspecified | WatchStart::Now) => Start::Now,
        Ok(WatchStart::OldestRetained) => Start::Oldest,
        Err(_) => {
            errors.add("start", "is not a WatchStart");
            Start::Now
        }
    }
}

/// The change kinds asked for, each checked (`field` is the list's name).
pub(super) fn kinds(field: &str, values: &[i32], errors: &mut FieldErrors) -> BTreeSet<i32> {
    let mut kinds = BTreeSet::new();
    for (i, k) in values.iter().enumerate() {
        match ScoreChangeKind::try_from(*k) {
            Ok(ScoreChangeKind::Unspecified) | Err(_) => {
                errors.add(format!("{field}[{i}]"), "is not a change kind")
            }
            Ok(_) => {
                kinds.insert(*k);
            }
        }
    }
    kinds
}

/// Where the request starts and the kinds it keeps.
fn unpack(r: &WatchScoreChangesRequest) -> Result<(Start, HashSet<i32>), ApiError> {
    let mut errors = FieldErrors::new();
    let start = match Position::parse(&r.resume_token) {
        Err(reason) => {
            errors.add("resume_token", reason);
            Start::Now
        }
        Ok(Some(p)) => Start::After(p),
        Ok(None) => start(r.start, &mut errors),
    };
    let kinds = kinds("kinds", &r.kinds, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::InvalidArgument(errors));
    }
    Ok((start, kinds.into_iter().collect()))
}

#[tonic::async_trait]
impl ScoreChangesService for FeedApi {
    type WatchScoreChangesStream = Watch;

    #[tracing::instrument(skip_all)]
    async fn watch_score_changes(
        &self,
        request: Request<WatchScoreChangesRequest>,
    ) -> Result<Response<Watch>, Status> {
        let ctx = TenantContext::of(&request)?;
        let (start, kinds) = unpack(request.get_ref())?;
        Ok(Response::new(self.feed.watch(ctx, start, kinds).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn put_score_change_subscription(
        &self,
        request: Request<PutScoreChangeSubscriptionRequest>,
    ) -> Result<Response<PutScoreChangeSubscriptionResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let put = self.subscriptions.put(&ctx, request.get_ref()).await?;
        Ok(Response::new(put))
    }

    #[tracing::instrument(skip_all)]
    async fn get_score_change_subscription(
        &self,
        request: Request<GetScoreChangeSubscriptionRequest>,
    ) -> Result<Response<GetScoreChangeSubscriptionResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let name = subscriptions::name(&request.get_ref().name)?;
        let found = self.subscriptions.get(ctx.tenant_id(), name).await?;
        Ok(Response::new(GetScoreChangeSubscriptionResponse {
            subscription: Some(found),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_score_change_subscriptions(
        &self,
        request: Request<ListScoreChangeSubscriptionsRequest>,
    ) -> Result<Response<ListScoreChangeSubscriptionsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let subscriptions = self.subscriptions.list(ctx.tenant_id()).await?;
        Ok(Response::new(ListScoreChangeSubscriptionsResponse {
            subscriptions,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_score_change_subscription(
        &self,
        request: Request<DeleteScoreChangeSubscriptionRequest>,
    ) -> Result<Response<DeleteScoreChangeSubscriptionResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let name = subscriptions::name(&request.get_ref().name)?;
        let deleted = self.subscriptions.delete(&ctx, name).await?;
        Ok(Response::new(DeleteScoreChangeSubscriptionResponse {
            deleted,
        }))
    }
}
