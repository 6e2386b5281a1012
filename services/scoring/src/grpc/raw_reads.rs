//! ScoringService as served. GetScore and BatchGetScores, the hot path,
//! answer with responses assembled from the bytes the cache holds, so a
//! cached score is neither decoded nor encoded again; every other method
//! goes to the generated server.

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures::future::BoxFuture;
use rapport_kit::{TenantContext, codec::RawResponses};
use rapport_proto::v1::{
    BatchGetScoresRequest, GetScoreRequest, scoring_service_server::ScoringServiceServer,
};
use tonic::{
    Request, Response, Status,
    body::Body,
    server::{Grpc, NamedService, UnaryService},
};
use tower::Service;

use super::{requests, scoring::ScoringApi};
use crate::scores::Scores;

const GET_SCORE: &str = "/rapport.v1.ScoringService/GetScore";
const BATCH_GET_SCORES: &str = "/rapport.v1.ScoringService/BatchGetScores";

/// The scoring service with its read path answered from raw bytes.
#[derive(Clone)]
pub struct ScoringRoutes {
    inner: ScoringServiceServer<ScoringApi>,
    scores: Scores,
}

impl ScoringRoutes {
    /// Serves `inner`, with GetScore and BatchGetScores through `scores`.
    pub fn new(inner: ScoringServiceServer<ScoringApi>, scores: Scores) -> Self {
        ScoringRoutes { inner, scores }
    }
}

impl NamedService for ScoringRoutes {
    const NAME: &'static str = <ScoringServiceServer<ScoringApi> as NamedService>::NAME;
}

impl Service<http::Request<Body>> for ScoringRoutes {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let scores = self.scores.clone();
        match req.uri().path() {
            GET_SCORE => raw(req, RawRead(scores, get_score)),
            BATCH_GET_SCORES => raw(req, RawRead(scores, batch_get_scores)),
            _ => Box::pin(self.inner.call(req)),
        }
    }
}

/// Serves one request with `read`, whose answer is the response's bytes.
fn raw<Req, F>(
    req: http::Request<Body>,
    read: RawRead<F>,
) -> BoxFuture<'static, Result<http::Response<Body>, Infallible>>
where
    Req: prost::Message + prost::Name + Default + Send + 'static,
    RawRead<F>: UnaryService<Req, Response = Bytes> + Send + 'static,
    <RawRead<F> as UnaryService<Req>>::Future: Send,
{
    Box::pin(async move {
        let mut grpc = Grpc::new(RawResponses::<Req>::default());
        Ok(grpc.unary(read, req).await)
    })
}

/// A read answered as encoded bytes by a function of the scores and the
/// request.
struct RawRead<F>(Scores, F);

impl<Req, F, Fut> UnaryService<Req> for RawRead<F>
where
    F: Fn(Scores, Request<Req>) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, Status>> + Send + 'static,
{
    type Response = Bytes;
    type Future = BoxFuture<'static, Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<Req>) -> Self::Future {
        let read = (self.1)(self.0.clone(), request);
        Box::pin(async move { Ok(Response::new(Bytes::from(read.await?))) })
    }
}

#[tracing::instrument(skip_all)]
async fn get_score(scores: Scores, request: Request<GetScoreRequest>) -> Result<Vec<u8>, Status> {
    let ctx = TenantContext::of(&request)?;
    let id = requests::customer_id(&request.get_ref().customer_id)?;
    Ok(scores.get_encoded(&ctx.tenant, id).await?)
}

#[tracing::instrument(skip_all, fields(ids = request.get_ref().customer_ids.len()))]
async fn batch_get_scores(
    scores: Scores,
    request: Request<BatchGetScoresRequest>,
) -> Result<Vec<u8>, Status> {
    let ctx = TenantContext::of(&request)?;
    let ids = requests::customer_ids(&request.get_ref().customer_ids)?;
    Ok(scores.batch_encoded(&ctx.tenant, &ids).await?)
}
