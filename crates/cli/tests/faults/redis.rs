//! Redis killed and restarted empty while callers read scores: every
//! GetScore still answers, from Postgres while the cache is gone.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rapport::import::{ImportOptions, import_transactions};
use rapport_kit::testing::{
    fresh_postgres,
    instances::{Options, Redis},
};
use rapport_proto::v1::{GetScoreRequest, ScoreSource};

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
    let answers = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (mut c, ids, answers) = (c.clone(), ids.clone(), answers.clone());
            tokio::spawn(async move {
                let mut i = w;
                while started.elapsed() < load_for {
                    let request = GetScoreRequest {
                        customer_id: ids[i % ids.len()].clone(),
                    };
                    let answer = match c.scoring.get_score(request).await {
                        Ok(r) if r.get_ref().score.is_some() => {
                            let source = ScoreSource::try_from(r.get_ref().source);
                            format!("OK {}", source.map_or("?", |s| s.as_str_name()))
                        }
                        Ok(_) => "no score".to_owned(),
                        Err(s) => format!("{:?}: {}", s.code(), s.message()),
                    };
                    *answers.lock().unwrap().entry(answer).or_insert(0) += 1;
                    i += 7;
                }
            })
        })
        .collect();
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
    for w in workers {
        w.await.expect("worker");
    }
    let answers = answers.lock().unwrap().clone();
    let calls: usize = answers.values().sum();
    let answered: usize = answers
        .iter()
        .filter(|(a, _)| a.starts_with("OK"))
        .map(|(_, n)| n)
        .sum();
    let failed = calls - answered;
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
