//! Redis killed and restarted empty while callers read scores: every
//! GetScore still answers, from Postgres while the cache is gone.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rapport::import::{ImportOptions, import_transactions};
use rapport_kit::testing::{
    ScoreLoad, fresh_postgres,
    instances::{Options, Redis},
};

use crate::{
    data::Data,
    stored::settle,
    support::{Stack, figure, size},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_get_score_load_fails_no_call() {
    let mut redis = Redis::spawn(Options::default()).await;
    let data = Data::new(size(1_000, 20_000));
    let (_, transactions_csv) = data.write();
    let stack = Stack::start(&fresh_postgres().await, &redis.url(), &[]).await;
    let mut c = stack.clients(&stack.tenant("acme"));
    import_transactions(&mut c, &transactions_csv, &ImportOptions::default())
        .await
        .expect("import");
    let scored = settle(&mut c, &data, Duration::from_secs(120)).await;
    let ids: Arc<Vec<String>> = Arc::new(
        scored
            .scores
            .values()
            .map(|s| s.customer_id.clone())
            .collect(),
    );
    assert_eq!(ids.len(), data.expected().len(), "every customer scored");

    let load_for = Duration::from_secs(size(15, 90));
    let load = ScoreLoad::start(&c.scoring, ids.clone(), 4, load_for);
    tokio::time::sleep(load_for / 3).await;
    redis.kill9();
    let killed = Instant::now();
    tokio::time::sleep(load_for / 3).await;
    let down = killed.elapsed();
    redis = tokio::task::spawn_blocking(move || {
        redis.restart();
        redis
    })
    .await
    .expect("restart redis");
    let answers = load.finish().await;
    let (calls, failed) = (answers.calls(), answers.failed());
    figure(
        "redis kill",
        format!(
            "{calls} GetScore calls by 4 callers over {:.0} s, Redis down {:.1} s of it: \
             {failed} failed {answers:?}",
            load_for.as_secs_f64(),
            down.as_secs_f64()
        ),
    );
    assert_eq!(failed, 0, "{answers:?}");
    stack.stop().await;
    drop(redis);
}
