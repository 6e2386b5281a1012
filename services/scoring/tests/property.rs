//! The property test, on both storage backends: seeded random purchases,
//! refunds, interactions and duplicates, applied through ApplyChanges in
//! random batches and orders; then every field of every score equals a
//! recomputation from scratch over the transactions with the science
//! functions. `updated_at` is the server's clock and is left out.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use rand::{Rng, seq::SliceRandom};
use rapport_kit::{
    domain::chrono_to_timestamp,
    testing::{Backend, ok},
};
use rapport_proto::v1::{
    BatchGetScoresRequest, ChangeEvent, ModelKind, Money, MonthlySpend, Score, ScoringSettings,
    UpdateScoringSettingsRequest,
};
use rapport_science::{
    BehaviourSettings, BgNbd, BgNbdParams, Breakpoints, GammaGamma, GammaGammaParams, MarginRates,
    Month, MonthlyActivity, PastContribution, RfmValues, TierThresholds, Transaction,
    TransactionKind, ValueAssumptions, value::periods_per_month,
};
use support::{fit_models, get, interaction, latest_fit, population, population::Txn, start};
use uuid::Uuid;

rapport_kit::backend_tests!(scores_equal_a_recomputation);

const HORIZON: u32 = 12;
const RATE: f64 = 0.09;
const COST: i64 = 300;

fn eur(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "EUR".into(),
        minor_units,
    })
}

fn minor(major: f64) -> i64 {
    (major * 100.0).round() as i64
}

fn month(t: DateTime<Utc>) -> i32 {
    t.year() * 12 + t.month0() as i32
}

/// The margin the service must have counted for a transaction.
fn margin(t: &Txn) -> i64 {
    let m = match (t.margin, t.cost) {
        (Some(m), _) => m,
        (None, Some(c)) => t.amount - c,
        (None, None) => {
            let rate = if t.category == "books" { 0.2 } else { 0.35 };
            (t.amount as f64 * rate).round() as i64
        }
    };
    if t.purchase { m } else { -m }
}

async fn scores_equal_a_recomputation(backend: Backend) {
    let h = start(backend).await;
    let (tenant, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = h.api(&key);
    client
        .update_scoring_settings(UpdateScoringSettingsRequest {
            settings: Some(ScoringSettings {
                annual_discount_rate: RATE,
                default_margin_rate: 0.35,
                category_margin_rates: [("books".to_owned(), 0.2)].into_iter().collect(),
                monthly_cost_to_serve: eur(COST),
                lifetime_horizon_months: HORIZON,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: [
                    "annual_discount_rate",
                    "default_margin_rate",
                    "category_margin_rates",
                    "monthly_cost_to_serve",
                    "lifetime_horizon_months",
                ]
                .map(String::from)
                .to_vec(),
            }),
        })
        .await
        .unwrap();

    let seed = match backend {
        Backend::Postgres => 21,
        Backend::Sqlite => 22,
    };
    let mut rng = population::rng(seed);
    let now = Utc::now().with_nanosecond(0).unwrap();
    let wallets: Vec<i64> = (0..10).map(|_| rng.random_range(1_000..400_000)).collect();
    let profiled = population::customers(&h, &key, wallets.len(), |i| {
        Some(format!("{}.{:02}", wallets[i] / 100, wallets[i] % 100))
    })
    .await;
    let estimate: HashMap<Uuid, i64> = profiled.iter().copied().zip(wallets).collect();
    let mut ids: Vec<Uuid> = (0..140).map(|_| Uuid::new_v4()).collect();
    ids.extend(&profiled);
    // Times sit half a day off this clock's time of day, so that whole days
    // since a purchase cannot tick over while the test runs.
    let snap = |t: DateTime<Utc>| now - Duration::days((now - t).num_days()) - Duration::hours(12);
    let txns: Vec<Txn> = population::simulate(&mut rng, &ids, now, 730)
        .into_iter()
        .map(|t| Txn {
            at: snap(t.at),
            ..t
        })
        .collect();
    // Some customers only ever visit.
    let visitors: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let mut events: Vec<(Uuid, ChangeEvent)> =
        txns.iter().map(|t| (t.customer, t.event())).collect();
    let mut visits: HashMap<Uuid, Vec<DateTime<Utc>>> = HashMap::new();
    let buyers = ids.len();
    for (i, c) in ids.iter().chain(&visitors).enumerate() {
        if i % 4 != 0 && i < buyers {
            continue;
        }
        let at = snap(now - Duration::seconds(rng.random_range(60..400 * 86_400)));
        visits.entry(*c).or_default().push(at);
        events.push((*c, interaction(&format!("evt:{i}"), *c, at)));
    }
    ids.extend(&visitors);

    // Random order, random batches, some sent twice, some repeated inside a
    // batch; the versions the service must reach are counted on the way.
    events.shuffle(&mut rng);
    let mut version: HashMap<Uuid, u64> = HashMap::new();
    let mut applied: HashSet<String> = HashSet::new();
    let mut rest = &events[..];
    while !rest.is_empty() {
        let n = rng.random_range(1..=60).min(rest.len());
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        let mut sent: Vec<ChangeEvent> = batch.iter().map(|(_, e)| e.clone()).collect();
        if rng.random::<f64>() < 0.3 {
            sent.push(sent[0].clone());
        }
        let mut fresh = HashSet::new();
        for (c, e) in batch {
            if applied.insert(e.id.clone()) {
                fresh.insert(*c);
            }
        }
        for c in fresh {
            *version.entry(c).or_default() += 1;
        }
        for _ in 0..if rng.random::<f64>() < 0.2 { 2 } else { 1 } {
            h.apply(tenant.id, sent.clone()).await.unwrap();
        }
    }

    fit_models(&mut client).await.unwrap();
    // The wallet estimates became new versions of those customers' scores.
    for c in &profiled {
        if version.contains_key(c) {
            *version.get_mut(c).unwrap() += 1;
        }
    }
    let fit = latest_fit(&mut client).await;
    let param = |kind: ModelKind, name: &str| support::param(&fit, kind, name);
    assert!(
        fit.models
            .iter()
            .any(|m| m.selected && m.kind == ModelKind::BgNbd as i32)
    );
    let bg = BgNbd::new(BgNbdParams {
        r: param(ModelKind::BgNbd, "r"),
        alpha: param(ModelKind::BgNbd, "alpha"),
        a: param(ModelKind::BgNbd, "a"),
        b: param(ModelKind::BgNbd, "b"),
    })
    .unwrap();
    let gg = GammaGamma::new(GammaGammaParams {
        p: param(ModelKind::GammaGamma, "p"),
        q: param(ModelKind::GammaGamma, "q"),
        v: param(ModelKind::GammaGamma, "v"),
    })
    .unwrap();

    let response = ok(client.batch_get_scores(BatchGetScoresRequest {
        customer_ids: ids.iter().map(Uuid::to_string).collect(),
    }))
    .await;
    assert!(response.missing_customer_ids.is_empty());
    let at = Utc::now();
    let world = World {
        txns: &txns,
        visits: &visits,
        estimate: &estimate,
        version: &version,
        bg,
        gg,
        fit_version: fit.version,
        now: at,
    };
    let mut expected = world.recompute(&ids);
    world.place_in_population(&mut expected);
    for (got, want) in response.scores.iter().zip(&expected) {
        assert_eq!(
            &comparable(got.clone()),
            want,
            "customer {}",
            want.customer_id
        );
    }
    // GetScore answers the same as the batch.
    for id in ids.iter().take(5) {
        let (s, _) = get(&mut client, *id).await.unwrap();
        let want = expected.iter().find(|e| e.customer_id == id.to_string());
        assert_eq!(Some(&comparable(s)), want);
    }
    h.ts.stop().await;
}

/// A served score without what the recomputation cannot know: the server's
/// clock, and the wording of explanations other than the science crate's own
/// (RFM and tier); which measures are explained is kept.
fn comparable(mut s: Score) -> Score {
    s.updated_at = None;
    for e in &mut s.explanations {
        e.inputs.clear();
        if e.measure != "rfm" && e.measure != "tier" {
            e.text.clear();
        }
    }
    s
}

/// Everything the recomputation starts from.
struct World<'a> {
    txns: &'a [Txn],
    visits: &'a HashMap<Uuid, Vec<DateTime<Utc>>>,
    estimate: &'a HashMap<Uuid, i64>,
    version: &'a HashMap<Uuid, u64>,
    bg: BgNbd,
    gg: GammaGamma,
    fit_version: u64,
    now: DateTime<Utc>,
}

#[path = "property/recompute.rs"]
mod recompute;
