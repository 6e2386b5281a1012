//! Loyalty points: ApplyChanges with the tenant's points programme earning
//! (ledger entries posted in the same transaction), with category
//! multipliers only and with tier multipliers too (each call then also
//! reads the customers' tiers before the purchase), against the same calls
//! with the programme paused, the three alternated on the loaded tenant;
//! then RedeemPoints and GetPointsBalance against GetScore.

use std::time::Instant;

use anyhow::Context;
use rapport_kit::{config::Secret, internal::InternalCredentials};
use rapport_proto::v1::{
    AdjustPointsRequest, ApplyChangesRequest, ChangeEvent, GetPointsBalanceRequest,
    GetScoreRequest, PointsProgramme, PutPointsProgrammeRequest, RedeemPointsRequest,
    TransactionChange, TransactionKind, change_event::Change,
    scoring_service_client::ScoringServiceClient,
};
use uuid::Uuid;

use super::{
    calls::channels,
    load::{self, Latency},
    report::{Report, Target as Goal},
    run::Run,
};

/// Changes per ApplyChanges call (the relay's usual batch).
const BATCH: usize = 500;
/// Rounds: paused, earning, earning with tiers, twice over.
const ROUNDS: usize = 6;
/// Sequential calls of each read or write.
const CALLS: usize = 100;

/// The programme of a round: paused (0), earning (1), earning by tier (2).
fn programme(side: usize) -> PointsProgramme {
    let tiers = match side {
        2 => [
            ("gold".to_owned(), 1.5),
            ("silver".to_owned(), 1.25),
            ("platinum".to_owned(), 2.0),
        ]
        .into(),
        _ => Default::default(),
    };
    PointsProgramme {
        points_per_unit: 1.0,
        category_multipliers: [("tools".to_owned(), 2.0)].into(),
        tier_multipliers: tiers,
        welcome_bonus: 100,
        expiry_months: 12,
        paused: side == 0,
        ..PointsProgramme::default()
    }
}

fn requests(ids: &[String], calls: usize, offset: usize) -> Vec<ApplyChangesRequest> {
    let now = chrono::Utc::now();
    (0..calls)
        .map(|c| ApplyChangesRequest {
            changes: (0..BATCH)
                .map(|i| {
                    let n = offset + c * BATCH + i;
                    ChangeEvent {
                        // As ingestion mints them (UUIDv7), so they take the dedupe
                        // table's day partitions as production changes do.
                        id: format!("txn:{}", Uuid::now_v7()),
                        customer_id: ids[(n * 7_919) % ids.len()].clone(),
                        change: Some(Change::Transaction(TransactionChange {
                            kind: TransactionKind::Purchase as i32,
                            occurred_at: Some(prost_types::Timestamp {
                                seconds: now.timestamp(),
                                nanos: 0,
                            }),
                            amount_minor: 1_000 + (n as i64 % 5_000),
                            currency_code: "EUR".to_owned(),
                            margin_minor: None,
                            cost_minor: None,
                            category: "tools".to_owned(),
                        })),
                    }
                })
                .collect(),
        })
        .collect()
}

pub async fn loyalty(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let (target, ids, s) = (&*run.target, &run.ids, run.settings);
    let clients = target.clients()?;
    let internal = InternalCredentials::new(Secret::new(target.internal_token.clone()));
    let chans = channels(&target.scoring_url(), 1)?;
    let mut scoring =
        ScoringServiceClient::new(chans[0].clone()).max_encoding_message_size(64 << 20);
    let mut loyalty = clients.loyalty.clone();
    let calls = ((s.apply_changes as usize) / BATCH / ROUNDS).max(1);
    // Changes applied and seconds taken by paused, earning, earning by tier.
    let mut sides = [(0u64, 0f64); 3];
    for round in 0..ROUNDS {
        let side = round % 3;
        loyalty
            .put_points_programme(PutPointsProgrammeRequest {
                programme: Some(programme(side)),
            })
            .await
            .context("PutPointsProgramme")?;
        let t0 = Instant::now();
        let mut applied = 0u64;
        for r in requests(ids, calls, round * calls * BATCH) {
            let answer = scoring
                .apply_changes(internal.request(target.tenant_id, None, r))
                .await
                .context("ApplyChanges")?;
            applied += u64::from(answer.into_inner().applied);
        }
        sides[side].0 += applied;
        sides[side].1 += t0.elapsed().as_secs_f64();
    }
    let rate = |(n, s): (u64, f64)| n as f64 / s.max(1e-9);
    let condition = format!(
        "{} changes a side, batches of {BATCH}, concurrency 1, alternated",
        sides[0].0
    );
    for (name, side) in [
        ("ApplyChanges with points earning", sides[1]),
        ("ApplyChanges with points earning by tier", sides[2]),
    ] {
        report.ratio(
            name,
            condition.clone(),
            rate(side),
            "the same with the programme paused",
            rate(sides[0]),
            "chg/s",
            Goal::None,
        );
    }

    // Reads and writes of one customer's points, one at a time.
    let sample: Vec<&String> = ids.iter().take(CALLS).collect();
    let (mut scores, mut balances, mut redeems) =
        (load::histogram(), load::histogram(), load::histogram());
    for id in &sample {
        loyalty
            .adjust_points(AdjustPointsRequest {
                request_id: format!("bench-{}", Uuid::now_v7()),
                customer_id: (*id).clone(),
                points: 10,
                reason: "bench".into(),
            })
            .await
            .context("AdjustPoints")?;
    }
    for id in &sample {
        let t = Instant::now();
        clients
            .scoring
            .clone()
            .get_score(GetScoreRequest {
                customer_id: (*id).clone(),
            })
            .await
            .context("GetScore")?;
        scores.record(load::micros_since(t)).ok();
        let t = Instant::now();
        loyalty
            .get_points_balance(GetPointsBalanceRequest {
                customer_id: (*id).clone(),
            })
            .await
            .context("GetPointsBalance")?;
        balances.record(load::micros_since(t)).ok();
        let t = Instant::now();
        loyalty
            .redeem_points(RedeemPointsRequest {
                request_id: format!("bench-{}", Uuid::now_v7()),
                customer_id: (*id).clone(),
                points: 1,
                reason: "bench".into(),
            })
            .await
            .context("RedeemPoints")?;
        redeems.record(load::micros_since(t)).ok();
    }
    let (score, balance, redeem) = (
        Latency::of(&scores),
        Latency::of(&balances),
        Latency::of(&redeems),
    );
    let condition = format!("{CALLS} calls each, one at a time");
    report.latency_ratios("GetPointsBalance", &condition, &balance, "GetScore", &score);
    report.latency_ratios("RedeemPoints", &condition, &redeem, "GetScore", &score);
    report.add_json(
        "loyalty",
        serde_json::json!({
            "paused": { "changes": sides[0].0, "seconds": sides[0].1 },
            "earning": { "changes": sides[1].0, "seconds": sides[1].1 },
            "earning_by_tier": { "changes": sides[2].0, "seconds": sides[2].1 },
            "get_score": score,
            "get_points_balance": balance,
            "redeem_points": redeem,
        }),
    );
    Ok(())
}
