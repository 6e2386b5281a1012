//! BatchGetScores of 100 customers against one GetScore and against 100
//! GetScore calls, all at concurrency 1.

use super::{
    calls::{Answer, batch_call, channels, get_score_call, singles_call},
    load,
    report::{Report, Target as Goal},
    run::Run,
};

/// BatchGetScores(100) against one GetScore and against 100 of them, all at
/// concurrency 1.
pub async fn batch(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let (target, ids, s) = (&*run.target, &run.ids, run.settings);
    let chans = channels(&target.scoring_url(), 1)?;
    let single = get_score_call(chans.clone(), &target.api_key, ids.clone())?;
    let batch = batch_call(chans, &target.api_key, ids.clone(), 100, Answer::Raw)?;
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
        o.ensure_clean(name)?;
    }
    for (measure, value, baseline, baseline_value, goal) in [
        (
            "BatchGetScores(100): p99",
            many.latency.p99_us,
            "GetScore p99",
            one.latency.p99_us,
            Goal::AtMost(10.0),
        ),
        (
            "BatchGetScores(100): p50",
            many.latency.p50_us,
            "100 GetScore calls p50",
            hundred.latency.p50_us,
            Goal::None,
        ),
    ] {
        let condition = "concurrency 1".to_owned();
        report.ratio(
            measure,
            condition,
            value as f64,
            baseline,
            baseline_value as f64,
            "µs",
            goal,
        );
    }
    report.add_raw("get_score.concurrency_1", Some(one));
    report.add_raw("batch_get_scores_100.concurrency_1", Some(many));
    report.add_raw("get_score_x100.concurrency_1", Some(hundred));
    Ok(())
}
