//! GetScore on a cache miss against one primary-key SELECT of the same row,
//! on a suite restarted with an empty cache.

use std::sync::Arc;

use rapport_kit::Db;
use uuid::Uuid;

use super::{
    calls::{channels, get_score_call},
    load::{self, Call},
    report::{Report, Target as Goal},
    run::Run,
};

/// GetScore on a cache miss against one primary-key SELECT of the same row
/// through a pool opened as the service opens its own. The suite is
/// restarted with an empty cache first; each customer is read once, so
/// every read misses.
pub async fn miss(run: &mut Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let (target, ids, s) = (&mut *run.target, &run.ids, run.settings);
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
