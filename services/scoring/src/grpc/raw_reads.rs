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
use tracing::Instrument;

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
            GET_SCORE => Box::pin(async move {
                let mut grpc = Grpc::new(RawResponses::<GetScoreRequest>::default());
                Ok(grpc.unary(GetScore(scores), req).await)
            }),
            BATCH_GET_SCORES => Box::pin(async move {
                let mut grpc = Grpc::new(RawResponses::<BatchGetScoresRequest>::default());
                Ok(grpc.unary(BatchGetScores(scores), req).await)
            }),
            _ => Box::pin(self.inner.call(req)),
        }
    }
}

struct GetScore(Scores);

impl UnaryService<GetScoreRequest> for GetScore {
    type Response = Bytes;
    type Future = BoxFuture<'static, Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<GetScoreRequest>) -> Self::Future {
        let scores = self.0.clone();
        let span = tracing::info_span!("get_score");
        Box::pin(
            async move {
                let ctx = TenantContext::of(&request)?;
                let id = requests::customer_id(&request.get_ref().customer_id)?;
                let bytes = scores.get_encoded(&ctx.tenant, id).await?;
                Ok(Response::new(Bytes::from(bytes)))
            }
            .instrument(span),
        )
    }
}

struct BatchGetScores(Scores);

impl UnaryService<BatchGetScoresRequest> for BatchGetScores {
    type Response = Bytes;
    type Future = BoxFuture<'static, Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<BatchGetScoresRequest>) -> Self::Future {
        let scores = self.0.clone();
        let span = tracing::info_span!(
            "batch_get_scores",
            ids = request.get_ref().customer_ids.len()
        );
        Box::pin(
            async move {
                let ctx = TenantContext::of(&request)?;
                let ids = requests::customer_ids(&request.get_ref().customer_ids)?;
                let bytes = scores.batch_encoded(&ctx.tenant, &ids).await?;
                Ok(Response::new(Bytes::from(bytes)))
            }
            .instrument(span),
        )
    }
}
