//! Score reads on a cache hit: GetScore against the same server's health
//! check, at peak throughput and at half of GetScore's peak, after reading
//! every customer once so every score is cached.

use std::sync::Arc;

use rapport_proto::v1::GetScoreRequest;

use super::{
    calls::{Answer, batch_call, channels, get_score_call, health_call},
    load::{self, Outcome},
    report::{Report, Target as Goal},
    run::Run,
    target::Target,
};

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

/// Reads every customer once in batches, so every score is cached.
pub async fn warm(target: &Target, ids: &Arc<Vec<String>>) -> anyhow::Result<()> {
    let chans = channels(&target.scoring_url(), 1)?;
    let batch = batch_call(chans, &target.api_key, ids.clone(), 500, Answer::Decoded)?;
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
pub async fn hit(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let (target, ids, s) = (&*run.target, &run.ids, run.settings);
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
        h.ensure_clean("Health/Check")?;
        g.ensure_clean("GetScore")?;
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
        h.ensure_clean("Health/Check")?;
        g.ensure_clean("GetScore")?;
        h99.push(h.latency.p99_us as f64);
        s99.push(g.latency.p99_us as f64);
        last_h = Some(h);
        last_s = Some(g);
    }
    let (h, g) = (last_h.unwrap_or_default(), last_s.unwrap_or_default());
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
