//! The ScoreChangesService handler: the tenant from the credentials, the
//! request unpacked, the watch started.

use std::collections::HashSet;

use rapport_kit::{ApiError, TenantContext};
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

/// Where the request starts and the kinds it keeps.
fn unpack(r: &WatchScoreChangesRequest) -> Result<(Start, HashSet<i32>), ApiError> {
    let start = match Position::parse(&r.resume_token) {
        Err(reason) => return Err(ApiError::invalid("resume_token", reason)),
        Ok(Some(p)) => Start::After(p),
        Ok(None) => match WatchStart::try_from(r.start) {
            Ok(WatchStart::Unspecified | WatchStart::Now) => Start::Now,
            Ok(WatchStart::OldestRetained) => Start::Oldest,
            Err(_) => return Err(ApiError::invalid("start", "is not a WatchStart")),
        },
    };
    let mut kinds = HashSet::new();
    for (i, k) in r.kinds.iter().enumerate() {
        match ScoreChangeKind::try_from(*k) {
            Ok(ScoreChangeKind::Unspecified) | Err(_) => {
                return Err(ApiError::invalid(
                    format!("kinds[{i}]"),
                    "is not a change kind",
                ));
            }
            Ok(_) => kinds.insert(*k),
        };
    }
    Ok((start, kinds))
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
