//! The dedupe window (issue 11): change ids are remembered for
//! `scoring.dedupe_retention_days`, kept under the day their UUIDv7 was
//! minted (on Postgres in that day's partition) or, for any other id, under
//! one sentinel day. A redelivery within the window is a duplicate; a
//! change dated outside it is dead-lettered and counts nothing; the
//! retention pass makes the days ahead, drops the days past the window and
//! trims old sentinel rows, on both stores. A change still counts once
//! after its customer is erased.

mod support;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rapport_kit::{
    config::{Config, Section},
    db::{Id, Time},
    on_pool,
    testing::{Backend, ok},
};
use rapport_proto::v1::{
    ApplyChangesResponse, ChangeOutcome, EraseCustomerScoresRequest, ListDeadLettersRequest,
    scoring_service_client::ScoringServiceClient,
};
use rapport_scoring::ScoringConfig;
use support::{Harness, eur, get, interaction, purchase, start_acme};
use tonic::Code;
use uuid::Uuid;

rapport_kit::backend_tests! {
    changes_dated_outside_the_window_are_dead_lettered,
    retention_drops_old_days_and_trims_old_sentinel_rows,
    erased_customers_changes_stay_duplicates,
    a_raised_window_does_not_readmit_forgotten_days,
}

/// A "txn:" id minted at `at`, as ingestion mints them.
fn txn_at(at: DateTime<Utc>) -> String {
    format!("txn:{}", v7_at(at))
}

fn v7_at(at: DateTime<Utc>) -> Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp() as u64,
        at.timestamp_subsec_nanos(),
    );
    Uuid::new_v7(ts)
}

fn outcome(r: &ApplyChangesResponse) -> (u32, u32, u32) {
    (r.applied, r.duplicates, r.dead_lettered)
}

/// The day a change id is kept under, as stored (SQLite keeps day numbers).
async fn stored_day(h: &Harness, tenant: Uuid, id: &str) -> Option<NaiveDate> {
    let db = h.ts.app.db(rapport_scoring::SCHEMA).unwrap();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    match &db {
        rapport_kit::Db::Postgres(pool) => sqlx::query_scalar(
            "SELECT change_day FROM applied_changes WHERE tenant_id = $1 AND change_id = $2",
        )
        .bind(tenant)
        .bind(id)
        .fetch_optional(pool)
        .await
        .unwrap(),
        rapport_kit::Db::Sqlite(pool) => {
            let n: Option<i64> = sqlx::query_scalar(
                "SELECT change_day FROM applied_changes WHERE tenant_id = $1 AND change_id = $2",
            )
            .bind(Id(tenant))
            .bind(id)
            .fetch_optional(pool)
            .await
            .unwrap();
            n.map(|n| epoch + TimeDelta::days(n))
        }
    }
}

async fn changes_dated_outside_the_window_are_dead_lettered(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let now = Utc::now();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let at = now - TimeDelta::days(1);

    // The first change after the migration: on Postgres its day has no
    // partition yet (no retention pass has run), so the apply makes it.
    let fresh = txn_at(now);
    let r = h.apply(tenant.id, vec![purchase(&fresh, a, at, 500)]);
    assert_eq!(outcome(&r.await.unwrap()), (1, 0, 0));
    assert_eq!(
        stored_day(&h, tenant.id, &fresh).await,
        Some(now.date_naive())
    );
    // Redelivered: a duplicate, counted once.
    let r = h.apply(tenant.id, vec![purchase(&fresh, a, at, 500)]);
    assert_eq!(outcome(&r.await.unwrap()), (0, 1, 0));

    // Dated 40 days back, past the 30-day window; and 5 days ahead.
    let old = txn_at(now - TimeDelta::days(40));
    let ahead = format!("evt:{}", v7_at(now + TimeDelta::days(5)));
    let r = h
        .apply(
            tenant.id,
            vec![purchase(&old, a, at, 700), interaction(&ahead, b, at)],
        )
        .await
        .unwrap();
    assert_eq!(outcome(&r), (0, 0, 2));
    let reasons: Vec<(&str, ChangeOutcome, &str)> = r
        .results
        .iter()
        .map(|c| (c.change_id.as_str(), c.outcome(), c.reason.as_str()))
        .collect();
    assert_eq!(reasons[0].1, ChangeOutcome::DeadLettered);
    assert!(
        reasons[0].2.contains(
            "older than the 30-day dedupe window (scoring.dedupe_retention_days): it cannot be \
             told apart from one already applied"
        ),
        "{}",
        reasons[0].2
    );
    assert!(
        reasons[1].2.contains("more than 2 days in the future"),
        "{}",
        reasons[1].2
    );
    // Nothing of them counted; both kept as dead letters, stored nowhere else.
    let (s, _) = get(&mut client, a).await.unwrap();
    assert_eq!((s.purchase_count, s.purchase_total), (1, eur(500)));
    assert_eq!(
        get(&mut client, b).await.unwrap_err().code(),
        Code::NotFound
    );
    let letters = ok(client.list_dead_letters(ListDeadLettersRequest::default())).await;
    let mut ids: Vec<&str> = letters
        .dead_letters
        .iter()
        .map(|l| l.change_id.as_str())
        .collect();
    ids.sort_unstable();
    let mut want = vec![old.as_str(), ahead.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want);
    assert_eq!(stored_day(&h, tenant.id, &old).await, None);

    // An id without a day (a caller's own, or a v4 from before the
    // upgrade) is deduped as before, under the sentinel day.
    let v4 = format!("txn:{}", Uuid::new_v4());
    for (i, id) in ["c1", v4.as_str()].into_iter().enumerate() {
        let call = vec![purchase(id, a, at, 10)];
        let r = h.apply(tenant.id, call.clone()).await.unwrap();
        assert_eq!(outcome(&r), (1, 0, 0), "{id}");
        let r = h.apply(tenant.id, call).await.unwrap();
        assert_eq!(outcome(&r), (0, 1, 0), "{id}");
        let (s, _) = get(&mut client, a).await.unwrap();
        assert_eq!(s.purchase_count, 2 + i as u64);
        assert_eq!(
            stored_day(&h, tenant.id, id).await,
            NaiveDate::from_ymd_opt(1970, 1, 1)
        );
    }

    // On Postgres, the day the apply path stored is the one the
    // migration's SQL rule gives for the same id (it dated the rows copied
    // over), whatever the id looks like.
    if let rapport_kit::Db::Postgres(pool) = h.ts.app.db(rapport_scoring::SCHEMA).unwrap() {
        let v7 = v7_at(now);
        let odd = [
            v7.to_string(),
            format!("evt:{}", v7.to_string().to_uppercase()),
            format!("evt:{}", v7.simple()),
            format!("opp:{v7}"),
        ];
        let call = odd.iter().map(|id| purchase(id, a, at, 1)).collect();
        assert_eq!(outcome(&h.apply(tenant.id, call).await.unwrap()), (4, 0, 0));
        let differ: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM applied_changes \
             WHERE tenant_id = $1 AND change_day <> change_day(change_id)",
        )
        .bind(tenant.id)
        .fetch_one(&pool)
        .await
        .unwrap();
        let rows: i64 =
            sqlx::query_scalar("SELECT count(*) FROM applied_changes WHERE tenant_id = $1")
                .bind(tenant.id)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!((differ, rows), (0, 7));
        assert_eq!(
            stored_day(&h, tenant.id, &odd[0]).await,
            Some(now.date_naive())
        );
    }
    h.ts.stop().await;
}

/// The day partitions of `applied_changes` (Postgres).
async fn partition_days(pool: &sqlx::PgPool) -> Vec<NaiveDate> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'applied_changes'::regclass",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        names.iter().any(|n| n == "applied_changes_legacy"),
        "{names:?}"
    );
    let mut days: Vec<NaiveDate> = names
        .iter()
        .filter_map(|n| n.strip_prefix("applied_changes_d"))
        .map(|d| NaiveDate::parse_from_str(d, "%Y%m%d").unwrap())
        .collect();
    days.sort_unstable();
    days
}

async fn retention_drops_old_days_and_trims_old_sentinel_rows(backend: Backend) {
    let (h, tenant, _client) = start_acme(backend).await;
    let now = Utc::now();
    let today = now.date_naive();
    let (a, at) = (Uuid::new_v4(), now - TimeDelta::days(1));
    let db = h.ts.app.db(rapport_scoring::SCHEMA).unwrap();

    // A pass 40 days ago made that time's days; a row is kept under one.
    let back = now - TimeDelta::days(40);
    let done = h.scoring.retire_dedupe_once(back).await.unwrap();
    let old_day = back.date_naive();
    let old = txn_at(back);
    on_pool!(&db, pool => {
        let day = match backend {
            Backend::Postgres => old_day.format("%Y-%m-%d").to_string(),
            Backend::Sqlite => (old_day - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
                .num_days()
                .to_string(),
        };
        let cast = if backend == Backend::Postgres { "::date" } else { "" };
        sqlx::query(&format!(
            "INSERT INTO applied_changes (tenant_id, change_id, customer_id, applied_at, change_day) \
             VALUES ($1, $2, $3, $4, '{day}'{cast})"
        ))
        .bind(Id(tenant.id))
        .bind(&old)
        .bind(Id(a))
        .bind(Time(back))
        .execute(pool)
        .await
        .unwrap();
    });
    if let rapport_kit::Db::Postgres(pool) = &db {
        assert_eq!(done.created, 10);
        let days = partition_days(pool).await;
        assert!(days.contains(&old_day), "{days:?}");
    }

    // Kept: a change of today and a sentinel row applied now; trimmed: a
    // sentinel row applied 40 days ago.
    let fresh = txn_at(now);
    let call = vec![
        purchase(&fresh, a, at, 1),
        purchase("c-new", a, at, 1),
        purchase("c-old", a, at, 1),
    ];
    assert_eq!(outcome(&h.apply(tenant.id, call).await.unwrap()), (3, 0, 0));
    on_pool!(&db, pool => {
        sqlx::query("UPDATE applied_changes SET applied_at = $1 WHERE change_id = 'c-old'")
            .bind(Time(back))
            .execute(pool)
            .await
            .unwrap();
    });

    let done = h.scoring.retire_dedupe_once(now).await.unwrap();
    assert_eq!(done.trimmed, 1);
    assert!(done.dropped >= 1, "{done:?}");
    for (id, kept) in [(&old, false), (&fresh, true)] {
        assert_eq!(stored_day(&h, tenant.id, id).await.is_some(), kept, "{id}");
    }
    assert!(stored_day(&h, tenant.id, "c-new").await.is_some());
    assert!(stored_day(&h, tenant.id, "c-old").await.is_none());
    if let rapport_kit::Db::Postgres(pool) = &db {
        // The days from two back to a week ahead exist (today's was made by
        // the apply above); none older than the window and its day of grace.
        let days = partition_days(pool).await;
        for d in -2..=7 {
            let day = today + TimeDelta::days(d);
            assert!(days.contains(&day), "{day} missing from {days:?}");
        }
        let first_kept = today - TimeDelta::days(31);
        assert!(days.iter().all(|d| *d >= first_kept), "{days:?}");
        assert_eq!(done.created, 9, "{done:?}");
        assert_eq!(done.dropped, 10, "{done:?}");
    }

    // Idempotent: the next pass finds nothing to do.
    let again = h.scoring.retire_dedupe_once(now).await.unwrap();
    assert_eq!(again, rapport_scoring::Retired::default());
    // Changes still apply and dedupe after the pass.
    let call = vec![purchase(&fresh, a, at, 1)];
    assert_eq!(outcome(&h.apply(tenant.id, call).await.unwrap()), (0, 1, 0));
    h.ts.stop().await;
}

/// A pass under the 30-day window forgets the days before it; raising the
/// window to 60 days afterwards admits a 40-day-old change by the window,
/// but not past the horizon the pass recorded: it is dead-lettered, since
/// its row may be gone. A change inside the old window still applies.
async fn a_raised_window_does_not_readmit_forgotten_days(backend: Backend) {
    let (h, tenant, _client) = start_acme(backend).await;
    let now = Utc::now();
    h.scoring.retire_dedupe_once(now).await.unwrap();
    let mut config = h.ts.config.clone();
    h.ts.stop().await;

    config.update_section(|s: &mut ScoringConfig| s.dedupe_retention_days = 60);
    let h = support::start_with(config).await;
    let (a, at) = (Uuid::new_v4(), now - TimeDelta::days(1));
    let (old, recent) = (
        txn_at(now - TimeDelta::days(40)),
        txn_at(now - TimeDelta::days(20)),
    );
    let r = h
        .apply(
            tenant.id,
            vec![purchase(&old, a, at, 700), purchase(&recent, a, at, 300)],
        )
        .await
        .unwrap();
    assert_eq!(outcome(&r), (1, 0, 1));
    let horizon = now.date_naive() - TimeDelta::days(31);
    let refused = &r.results[0];
    assert_eq!(refused.outcome(), ChangeOutcome::DeadLettered);
    assert!(
        refused.reason.contains(&format!(
            "before {horizon}, the oldest day the dedupe table still remembers"
        )),
        "{}",
        refused.reason
    );
    assert_eq!(r.results[1].outcome(), ChangeOutcome::Applied);
    assert_eq!(stored_day(&h, tenant.id, &old).await, None);
    h.ts.stop().await;
}

async fn erased_customers_changes_stay_duplicates(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let now = Utc::now();
    let a = Uuid::new_v4();
    let at = now - TimeDelta::days(1);
    let ids = [txn_at(now), "c1".to_owned()];
    let call: Vec<_> = ids.iter().map(|id| purchase(id, a, at, 100)).collect();
    assert_eq!(
        outcome(&h.apply(tenant.id, call.clone()).await.unwrap()),
        (2, 0, 0)
    );

    let mut internal = ScoringServiceClient::new(h.ts.channel());
    let request = h.ts.app.internal.request(
        tenant.id,
        None,
        EraseCustomerScoresRequest {
            customer_id: a.to_string(),
            erasure_id: Uuid::now_v7().to_string(),
        },
    );
    let counts = internal.erase_customer_scores(request).await.unwrap();
    assert_eq!(
        counts.into_inner().counts.get("applied_changes_anonymised"),
        Some(&2)
    );
    // Their rows stay under their days, no longer naming the customer: a
    // redelivery re-creates nothing.
    assert_eq!(outcome(&h.apply(tenant.id, call).await.unwrap()), (0, 2, 0));
    assert_eq!(
        get(&mut client, a).await.unwrap_err().code(),
        Code::NotFound
    );
    let db = h.ts.app.db(rapport_scoring::SCHEMA).unwrap();
    let named: i64 = on_pool!(&db, pool => {
        sqlx::query_scalar("SELECT count(*) FROM applied_changes WHERE customer_id = $1")
            .bind(Id(a))
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(named, 0);
    assert_eq!(
        stored_day(&h, tenant.id, &ids[0]).await,
        Some(now.date_naive())
    );
    h.ts.stop().await;
}

#[test]
fn a_bad_window_is_refused_naming_the_field() {
    for days in [0, 1, 367] {
        let config = ScoringConfig {
            dedupe_retention_days: days,
            ..ScoringConfig::default()
        };
        let e = config.validate().unwrap_err().to_string();
        assert!(e.contains("scoring.dedupe_retention_days"), "{e}");
    }
    assert_eq!(ScoringConfig::default().dedupe_retention_days, 30);
    // Through the environment, as an operator sets it.
    let env = |days: &str| {
        [(
            "RAPPORT_SCORING__DEDUPE_RETENTION_DAYS".to_owned(),
            days.to_owned(),
        )]
    };
    let loaded = Config::load(env("1"), None, &[]).and_then(|c| ScoringConfig::read(&c));
    let e = loaded.unwrap_err().to_string();
    assert!(e.contains("scoring.dedupe_retention_days"), "{e}");
    let loaded = Config::load(env("90"), None, &[]).and_then(|c| ScoringConfig::read(&c));
    assert_eq!(loaded.unwrap().dedupe_retention_days, 90);
}
