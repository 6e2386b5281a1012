//! GetScore as JSON over HTTP (the Connect protocol's unary JSON, over
//! HTTP/2 connections) against the same GetScore over gRPC, on cache hits:
//! what transcoding costs a caller that does not speak gRPC.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tonic::transport::Channel;
use tower::Service as _;

use super::{
    calls::{channels, get_score_call},
    load::{self, Call, Outcome},
    report::{Report, Target as Goal},
    run::Run,
};

const PATH: &str = "/rapport.v1.ScoringService/GetScore";

/// One JSON GetScore on `chan`; its answer must be 200 with a score.
async fn json_get_score(
    mut chan: Channel,
    auth: Arc<str>,
    id: String,
) -> Result<(), tonic::Status> {
    let body = format!("{{\"customerId\":\"{id}\"}}");
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(PATH)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::AUTHORIZATION, &*auth)
        .body(tonic::body::Body::new(Full::new(Bytes::from(body))))
        .map_err(|e| tonic::Status::internal(e.to_string()))?;
    std::future::poll_fn(|cx| chan.poll_ready(cx))
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let response = chan
        .call(request)
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let status = response.status();
    let answer = response
        .into_body()
        .collect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?
        .to_bytes();
    if status != http::StatusCode::OK || !answer.starts_with(b"{\"score\":") {
        return Err(tonic::Status::unknown(format!(
            "{status}: {}",
            String::from_utf8_lossy(&answer)
        )));
    }
    Ok(())
}

fn json_call(chans: Arc<Vec<Channel>>, key: &str, ids: Arc<Vec<String>>) -> Call {
    let auth: Arc<str> = Arc::from(format!("Bearer {key}"));
    Arc::new(move |n| {
        let chan = chans[n as usize % chans.len()].clone();
        let id = ids[n as usize % ids.len()].clone();
        Box::pin(json_get_score(chan, auth.clone(), id))
    })
}

/// Peak throughput and p99 at half of the gRPC peak, JSON against gRPC, in
/// alternating rounds.
pub async fn json(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let (target, ids, s) = (&*run.target, &run.ids, run.settings);
    let hot = Arc::new(ids[..s.hot_customers.clamp(1, ids.len())].to_vec());
    let chans = channels(&target.scoring_url(), s.connections)?;
    let grpc = get_score_call(chans.clone(), &target.api_key, hot.clone())?;
    let json = json_call(chans, &target.api_key, hot);
    let (mut gp, mut jp) = (Vec::new(), Vec::new());
    let mut json_peak = None::<Outcome>;
    for _ in 0..s.rounds {
        let g = load::closed_loop(grpc.clone(), s.in_flight, s.warmup, s.duration).await;
        let j = load::closed_loop(json.clone(), s.in_flight, s.warmup, s.duration).await;
        g.ensure_clean("GetScore (gRPC)")?;
        j.ensure_clean("GetScore (JSON)")?;
        gp.push(g.per_second);
        jp.push(j.per_second);
        json_peak = Some(j);
    }
    let (gp, jp) = (load::median(gp), load::median(jp));
    report.add_raw("get_score_json.peak", json_peak);
    report.ratio(
        "GetScore as JSON: peak req/s",
        format!(
            "{} in flight over {} HTTP/2 connections",
            s.in_flight, s.connections
        ),
        jp,
        "GetScore over gRPC peak req/s",
        gp,
        "req/s",
        Goal::AtLeast(0.5),
    );
    let rate = (gp / 2.0).max(1.0);
    let (mut g99, mut j99) = (Vec::new(), Vec::new());
    let (mut last_g, mut last_j) = (None::<Outcome>, None::<Outcome>);
    for _ in 0..s.rounds {
        let g = load::open_loop(grpc.clone(), rate, s.duration, s.max_outstanding).await;
        let j = load::open_loop(json.clone(), rate, s.duration, s.max_outstanding).await;
        g.ensure_clean("GetScore (gRPC)")?;
        j.ensure_clean("GetScore (JSON)")?;
        g99.push(g.latency.p99_us as f64);
        j99.push(j.latency.p99_us as f64);
        last_g = Some(g);
        last_j = Some(j);
    }
    let (g, j) = (last_g.unwrap_or_default(), last_j.unwrap_or_default());
    let at = format!("open loop at {rate:.0} req/s");
    report.latency("GetScore as JSON", &at, &j, "GetScore over gRPC", &g);
    report.ratio(
        "GetScore as JSON: p99 at half the gRPC peak",
        at,
        load::median(j99),
        "GetScore over gRPC p99",
        load::median(g99),
        "µs",
        Goal::AtMost(1.5),
    );
    report.add_raw("get_score_json.half_peak", Some(j));
    Ok(())
}
