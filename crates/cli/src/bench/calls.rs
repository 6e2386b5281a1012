//! The calls the read scenarios make, each a [`Call`] the load generator
//! can run: the health check, GetScore and BatchGetScores, over connections
//! of their own.

use std::{sync::Arc, time::Duration};

use rapport_kit::internal::lazy_channel;
use rapport_proto::v1::{
    BatchGetScoresRequest, GetScoreRequest, scoring_service_client::ScoringServiceClient,
};
use tonic::{metadata::MetadataValue, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::load::Call;

/// Connections to `url`, each its own HTTP/2 connection.
pub fn channels(url: &str, n: usize) -> anyhow::Result<Arc<Vec<Channel>>> {
    Ok(Arc::new(
        (0..n.max(1))
            .map(|_| lazy_channel(url, Duration::from_secs(30)))
            .collect::<Result<_, _>>()?,
    ))
}

fn bearer(key: &str) -> anyhow::Result<MetadataValue<tonic::metadata::Ascii>> {
    Ok(MetadataValue::try_from(format!("Bearer {key}"))?)
}

/// grpc.health.v1 Check of the whole server.
pub fn health_call(chans: Arc<Vec<Channel>>) -> Call {
    Arc::new(move |n| {
        let mut client = HealthClient::new(chans[n as usize % chans.len()].clone());
        Box::pin(async move {
            client
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .map(|_| ())
        })
    })
}

/// A unary call on `chan` whose answer is kept as bytes: the load
/// generator measures the server, so it does not decode what it gets (as
/// h2load would not); the scenarios check decoded answers separately.
async fn raw_call<Req: prost::Message + Send + Sync + 'static>(
    chan: Channel,
    path: &'static str,
    request: tonic::Request<Req>,
) -> Result<bytes::Bytes, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(chan).max_decoding_message_size(64 << 20);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(path);
    let codec = rapport_kit::codec::RawResponsesClient::<Req>::default();
    Ok(grpc.unary(request, path, codec).await?.into_inner())
}

/// GetScore of customer `ids[n % len]`.
pub fn get_score_call(
    chans: Arc<Vec<Channel>>,
    key: &str,
    ids: Arc<Vec<String>>,
) -> anyhow::Result<Call> {
    let auth = bearer(key)?;
    Ok(Arc::new(move |n| {
        let chan = chans[n as usize % chans.len()].clone();
        let mut request = tonic::Request::new(GetScoreRequest {
            customer_id: ids[n as usize % ids.len()].clone(),
        });
        request.metadata_mut().insert("authorization", auth.clone());
        Box::pin(async move {
            raw_call(chan, "/rapport.v1.ScoringService/GetScore", request)
                .await
                .map(|_| ())
        })
    }))
}

/// Call `n`'s BatchGetScores request: `size` customers starting at a
/// different place each call.
fn batch_request(
    ids: &[String],
    size: usize,
    n: u64,
    auth: &MetadataValue<tonic::metadata::Ascii>,
) -> tonic::Request<BatchGetScoresRequest> {
    let start = (n as usize * size) % ids.len();
    let customer_ids = (0..size)
        .map(|i| ids[(start + i) % ids.len()].clone())
        .collect();
    let mut request = tonic::Request::new(BatchGetScoresRequest { customer_ids });
    request.metadata_mut().insert("authorization", auth.clone());
    request
}

/// What a call does with its answer.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// Keeps it as bytes (see [`raw_call`]): for the figures.
    Raw,
    /// Decodes it, as a client would.
    Decoded,
}

/// BatchGetScores of `size` customers starting at a different place each call.
pub fn batch_call(
    chans: Arc<Vec<Channel>>,
    key: &str,
    ids: Arc<Vec<String>>,
    size: usize,
    answer: Answer,
) -> anyhow::Result<Call> {
    let auth = bearer(key)?;
    Ok(Arc::new(move |n| {
        let chan = chans[n as usize % chans.len()].clone();
        let request = batch_request(&ids, size, n, &auth);
        match answer {
            Answer::Raw => Box::pin(async move {
                raw_call(chan, "/rapport.v1.ScoringService/BatchGetScores", request)
                    .await
                    .map(|_| ())
            }),
            Answer::Decoded => {
                let mut client =
                    ScoringServiceClient::new(chan).max_decoding_message_size(64 << 20);
                Box::pin(async move { client.batch_get_scores(request).await.map(|_| ()) })
            }
        }
    }))
}

/// `size` calls of `single` one after another, as one call.
pub fn singles_call(single: Call, size: u64) -> Call {
    Arc::new(move |n| {
        let single = single.clone();
        Box::pin(async move {
            for i in 0..size {
                single(n * size + i).await?;
            }
            Ok(())
        })
    })
}
