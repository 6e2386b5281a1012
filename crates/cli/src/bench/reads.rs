//! Score reads against their baselines: GetScore on a cache hit against the
//! same server's health check (peak throughput, then latency at half of
//! GetScore's peak), BatchGetScores of 100 against GetScore and against 100
//! GetScore calls, and GetScore on a cache miss against one primary-key
//! SELECT of the same row.

use std::{sync::Arc, time::Duration};

use rapport_kit::{Db, internal::lazy_channel};
use rapport_proto::v1::{
    BatchGetScoresRequest, GetScoreRequest, scoring_service_client::ScoringServiceClient,
};
use tonic::{metadata::MetadataValue, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use uuid::Uuid;

use super::{
    Settings,
    load::{self, Call, Outcome},
    report::{Report, Target as Goal},
    target::Target,
};

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

/// BatchGetScores of `size` customers, answers kept as bytes.
pub fn raw_batch_call(
    chans: Arc<Vec<Channel>>,
    key: &str,
    ids: Arc<Vec<String>>,
    size: usize,
) -> anyhow::Result<Call> {
    let auth = bearer(key)?;
    Ok(Arc::new(move |n| {
        let chan = chans[n as usize % chans.len()].clone();
        let start = (n as usize * size) % ids.len();
        let customer_ids = (0..size)
            .map(|i| ids[(start + i) % ids.len()].clone())
            .collect();
        let mut request = tonic::Request::new(BatchGetScoresRequest { customer_ids });
        request.metadata_mut().insert("authorization", auth.clone());
        Box::pin(async move {
            raw_call(chan, "/rapport.v1.ScoringService/BatchGetScores", request)
                .await
                .map(|_| ())
        })
    }))
}

/// Checks that GetScore answers a customer with their decoded score, so a
/// scenario never measures a server that answers nonsense fast.
pub async fn check_answer(target: &Target, id: &str) -> anyhow::Result<()> {
    let mut client = target.clients()?.scoring;
    let score = client
        .get_score(GetScoreRequest {
            customer_id: id.to_owned(),
        })
        .await?
        .into_inner()
        .score
        .ok_or_else(|| anyhow::anyhow!("GetScore answered without a score"))?;
    anyhow::ensure!(
        score.customer_id == id,
        "GetScore answered another customer"
    );
    anyhow::ensure!(
        score.purchase_count > 0 && score.value.is_some(),
        "GetScore answered a score without purchases or value measures"
    );
    Ok(())
}

/// BatchGetScores of `size` customers starting at a different place each call.
pub fn batch_call(
    chans: Arc<Vec<Channel>>,
    key: &str,
    ids: Arc<Vec<String>>,
    size: usize,
) -> anyhow::Result<Call> {
    let auth = bearer(key)?;
    Ok(Arc::new(move |n| {
        let mut client = ScoringServiceClient::new(chans[n as usize % chans.len()].clone())
            .max_decoding_message_size(64 << 20);
        let start = (n as usize * size) % ids.len();
        let customer_ids = (0..size)
            .map(|i| ids[(start + i) % ids.len()].clone())
            .collect();
        let mut request = tonic::Request::new(BatchGetScoresRequest { customer_ids });
        request.metadata_mut().insert("authorization", auth.clone());
        Box::pin(async move { client.batch_get_scores(request).await.map(|_| ()) })
    }))
}

/// `size` GetScore calls one after another, as one call.
fn singles_call(single: Call, size: u64) -> Call {
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

/// Reads every customer once in batches, so every score is cached.
pub async fn warm(target: &Target, ids: &Arc<Vec<String>>) -> anyhow::Result<()> {
    let chans = channels(&target.scoring_url(), 1)?;
    let batch = batch_call(chans, &target.api_key, ids.clone(), 500)?;
    let calls = ids.len().div_ceil(500) as u64;
    let o = load::sequential(batch, calls).await;
    anyhow::ensure!(
        o.errors == 0,
        "warming the cache failed: {:?}",
        o.first_error
    );
    Ok(())
}

/// Peak throughput and latency at half of it, GetScore against Health/Check,
/// in alternating rounds (A B A B) so drift hits both alike.
pub async fn hit(
    target: &Target,
    ids: &Arc<Vec<String>>,
    s: &Settings,
    report: &mut Report,
) -> anyhow::Result<()> {
    check_answer(target, &ids[0]).await?;
    let hot = Arc::new(ids[..s.hot_customers.clamp(1, ids.len())].to_vec());
    let chans = channels(&target.scoring_url(), s.connections)?;
    let health = health_call(chans.clone());
    let score = get_score_call(chans, &target.api_key, hot.clone())?;
    let (mut hp, mut sp) = (Vec::new(), Vec::new());
    let (mut health_peak, mut score_peak) = (None::<Outcome>, None::<Outcome>);
    for _ in 0..s.rounds {
        let h = load::closed_loop(health.clone(), s.in_flight, s.warmup, s.duration).await;
        let g = load::closed_loop(score.clone(), s.in_flight, s.warmup, s.duration).await;
        ensure_clean("Health/Check", &h)?;
        ensure_clean("GetScore", &g)?;
        hp.push(h.per_second);
        sp.push(g.per_second);
        health_peak = Some(h);
        score_peak = Some(g);
    }
    let (hp, sp) = (load::median(hp), load::median(sp));
    report.add_raw("get_score_hit.peak", score_peak);
    report.add_raw("health_check.peak", health_peak);
    report.ratio(
        "GetScore hit: peak req/s",
        format!(
            "{} in flight over {} connections",
            s.in_flight, s.connections
        ),
        sp,
        "Health/Check peak req/s",
        hp,
        "req/s",
        Goal::AtLeast(0.6),
    );

    let rate = (sp / 2.0).max(1.0);
    let (mut h99, mut s99) = (Vec::new(), Vec::new());
    let (mut last_h, mut last_s) = (None::<Outcome>, None::<Outcome>);
    for _ in 0..s.rounds {
        let h = load::open_loop(health.clone(), rate, s.duration, s.max_outstanding).await;
        let g = load::open_loop(score.clone(), rate, s.duration, s.max_outstanding).await;
        ensure_clean("Health/Check", &h)?;
        ensure_clean("GetScore", &g)?;
        h99.push(h.latency.p99_us as f64);
        s99.push(g.latency.p99_us as f64);
        last_h = Some(h);
        last_s = Some(g);
    }
    let (h, g) = (last_h.unwrap_or_else(empty), last_s.unwrap_or_else(empty));
    let at = format!("open loop at {rate:.0} req/s");
    report.latency("GetScore hit", &at, &g, "Health/Check", &h);
    report.ratio(
        "GetScore hit: p99 at half peak",
        at,
        load::median(s99),
        "Health/Check p99",
        load::median(h99),
        "µs",
        Goal::AtMost(1.5),
    );
    report.add_raw("get_score_hit.half_peak", Some(g));
    report.add_raw("health_check.half_peak", Some(h));
    Ok(())
}

/// BatchGetScores(100) against one GetScore and against 100 of them, all at
/// concurrency 1.
pub async fn batch(
    target: &Target,
    ids: &Arc<Vec<String>>,
    s: &Settings,
    report: &mut Report,
) -> anyhow::Result<()> {
    let chans = channels(&target.scoring_url(), 1)?;
    let single = get_score_call(chans.clone(), &target.api_key, ids.clone())?;
    let batch = raw_batch_call(chans, &target.api_key, ids.clone(), 100)?;
    let singles = singles_call(single.clone(), 100);
    let calls = s.sequential_calls;
    // Warm the connection and the process's caches before timing.
    load::sequential(single.clone(), 50).await;
    let one = load::sequential(single, calls).await;
    let many = load::sequential(batch, (calls / 10).max(20)).await;
    let hundred = load::sequential(singles, (calls / 100).max(5)).await;
    for (name, o) in [
        ("GetScore", &one),
        ("BatchGetScores", &many),
        ("100 x GetScore", &hundred),
    ] {
        ensure_clean(name, o)?;
    }
    report.ratio(
        "BatchGetScores(100): p99",
        "concurrency 1".to_owned(),
        many.latency.p99_us as f64,
        "GetScore p99",
        one.latency.p99_us as f64,
        "µs",
        Goal::AtMost(10.0),
    );
    report.ratio(
        "BatchGetScores(100): p50",
        "concurrency 1".to_owned(),
        many.latency.p50_us as f64,
        "100 GetScore calls p50",
        hundred.latency.p50_us as f64,
        "µs",
        Goal::None,
    );
    report.add_raw("get_score.concurrency_1", Some(one));
    report.add_raw("batch_get_scores_100.concurrency_1", Some(many));
    report.add_raw("get_score_x100.concurrency_1", Some(hundred));
    Ok(())
}

/// GetScore on a cache miss against one primary-key SELECT of the same row
/// through a pool opened as the service opens its own. The suite is
/// restarted with an empty cache first; each customer is read once, so
/// every read misses.
pub async fn miss(
    target: &mut Target,
    ids: &Arc<Vec<String>>,
    s: &Settings,
    report: &mut Report,
) -> anyhow::Result<()> {
    target.restart_cold().await?;
    let chans = channels(&target.scoring_url(), 1)?;
    // A few reads load the tenant's state and open the pools; those
    // customers are then left out.
    let warmup = 20.min(ids.len() / 4);
    let single = get_score_call(chans, &target.api_key, ids.clone())?;
    load::sequential(single.clone(), warmup as u64).await;
    let sample: Vec<String> = ids
        .iter()
        .skip(warmup)
        .take(s.sequential_calls as usize)
        .cloned()
        .collect();
    anyhow::ensure!(!sample.is_empty(), "no customers left to read cold");
    let db = target.db(rapport_scoring::SCHEMA)?;
    let tenant = target.tenant_id;
    let select = select_call(db.clone(), tenant, Arc::new(sample.clone()));
    let cold = get_score_call(
        channels(&target.scoring_url(), 1)?,
        &target.api_key,
        Arc::new(sample.clone()),
    )?;
    // Interleaved: the SELECT of a row, then the GetScore that misses on it,
    // so both find it in the database's buffers alike.
    let (mut sel_h, mut get_h) = (load::histogram(), load::histogram());
    let mut errors = 0;
    for n in 0..sample.len() as u64 {
        let t0 = tokio::time::Instant::now();
        if select(n).await.is_err() {
            errors += 1;
        }
        sel_h.saturating_record(t0.elapsed().as_micros().max(1) as u64);
        let t1 = tokio::time::Instant::now();
        if cold(n).await.is_err() {
            errors += 1;
        }
        get_h.saturating_record(t1.elapsed().as_micros().max(1) as u64);
    }
    db.close().await;
    anyhow::ensure!(errors == 0, "{errors} cache-miss reads failed");
    let (sel, get) = (load::Latency::of(&sel_h), load::Latency::of(&get_h));
    report.ratio(
        "GetScore miss: p99",
        format!("{} cold customers, concurrency 1", sample.len()),
        get.p99_us as f64,
        "primary-key SELECT p99",
        sel.p99_us as f64,
        "µs",
        Goal::AtMost(2.0),
    );
    report.ratio(
        "GetScore miss: p50",
        "concurrency 1".to_owned(),
        get.p50_us as f64,
        "primary-key SELECT p50",
        sel.p50_us as f64,
        "µs",
        Goal::None,
    );
    report.add_json("get_score_miss.latency", serde_json::to_value(get)?);
    report.add_json("primary_key_select.latency", serde_json::to_value(sel)?);
    Ok(())
}

/// `SELECT * FROM customer_scores WHERE tenant_id = $1 AND customer_id = $2`.
fn select_call(db: Db, tenant: Uuid, ids: Arc<Vec<String>>) -> Call {
    Arc::new(move |n| {
        let (db, id) = (db.clone(), ids[n as usize % ids.len()].clone());
        Box::pin(async move {
            let sql = "SELECT * FROM customer_scores WHERE tenant_id = $1 AND customer_id = $2";
            let found = match &db {
                Db::Postgres(p) => {
                    let id =
                        Uuid::parse_str(&id).map_err(|e| tonic::Status::internal(e.to_string()))?;
                    sqlx::query(sql)
                        .bind(tenant)
                        .bind(id)
                        .fetch_optional(p)
                        .await
                        .map(|r| r.is_some())
                }
                Db::Sqlite(p) => sqlx::query(sql)
                    .bind(tenant.to_string())
                    .bind(id)
                    .fetch_optional(p)
                    .await
                    .map(|r| r.is_some()),
            };
            match found {
                Ok(true) => Ok(()),
                Ok(false) => Err(tonic::Status::not_found("no score row")),
                Err(e) => Err(tonic::Status::internal(e.to_string())),
            }
        })
    })
}

fn empty() -> Outcome {
    Outcome {
        ok: 0,
        errors: 0,
        first_error: None,
        not_sent: 0,
        seconds: 0.0,
        per_second: 0.0,
        latency: load::Latency::default(),
    }
}

/// Fails the scenario if any call failed: a figure over failing calls
/// would measure the failure.
pub fn ensure_clean(what: &str, o: &Outcome) -> anyhow::Result<()> {
    anyhow::ensure!(
        o.errors == 0,
        "{what}: {} of {} calls failed (first: {})",
        o.errors,
        o.errors + o.ok,
        o.first_error.as_deref().unwrap_or("-")
    );
    Ok(())
}
