//! The ranges of a split pass against both stores, with times given.

use rapport_kit::{
    Db,
    testing::{self, Backend},
};

use super::*;
use crate::rules::ranges::split;

rapport_kit::backend_tests! {
    the_last_range_done_reschedules_the_pass_and_no_earlier_one,
}

/// The tenant's schedule row: its due time and lease.
async fn schedule(db: &Db, tenant: Uuid) -> (i64, Option<i64>) {
    on_pool!(db, pool => {
        sqlx::query_as("SELECT due_at, leased_until FROM rules_schedule WHERE tenant_id = $1")
            .bind(Id(tenant))
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

async fn the_last_range_done_reschedules_the_pass_and_no_earlier_one(backend: Backend) {
    let config = testing::config(backend).await;
    let db = Db::connect_lazy(&config, crate::SCHEMA).unwrap();
    db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await.unwrap();
    let repo = EvaluationRepo { db: db.clone() };
    let tenant = Uuid::new_v4();
    on_pool!(&db, pool => {
        sqlx::query("INSERT INTO rules_schedule (tenant_id, due_at) VALUES ($1, 100)")
            .bind(Id(tenant))
            .execute(pool)
            .await
            .unwrap();
    });
    assert_eq!(
        repo.claim_tenant(200, 300).await.unwrap(),
        Some((tenant, 100))
    );
    assert_eq!(repo.claim_range(200, 1_000).await.unwrap(), None);

    // Split in three; a second split (another estimate) or one of a pass
    // that is not the tenant's current one changes nothing.
    assert!(!repo.is_split(tenant, 100).await.unwrap());
    assert!(repo.split_pass(tenant, 100, &split(3)).await.unwrap());
    assert!(repo.is_split(tenant, 100).await.unwrap());
    assert!(!repo.split_pass(tenant, 100, &split(5)).await.unwrap());
    assert!(!repo.split_pass(tenant, 99, &split(5)).await.unwrap());
    assert!(!repo.is_split(tenant, 99).await.unwrap());

    // Three replicas take a range each, in order; none is left.
    let mut claimed = Vec::new();
    for (i, ids) in split(3).into_iter().enumerate() {
        let r = repo
            .claim_range(200, 1_000)
            .await
            .unwrap()
            .expect("a range");
        assert_eq!(
            (r.tenant, r.due, r.number, r.ids),
            (tenant, 100, i as i64, ids)
        );
        claimed.push(r);
    }
    assert_eq!(repo.claim_range(200, 1_000).await.unwrap(), None);
    let [r0, r1, r2] = <[PassRange; 3]>::try_from(claimed).unwrap();

    // Range 0's replica renews; range 1's finishes: the pass goes on.
    assert!(repo.renew_range(&r0, 1_000, 1_500).await.unwrap());
    assert_eq!(
        repo.finish_range(&r0, 1_000, 9_000).await.unwrap(),
        Finished::Lost
    );
    assert_eq!(
        repo.finish_range(&r1, 1_000, 9_000).await.unwrap(),
        Finished::Range
    );
    assert_eq!(schedule(&db, tenant).await, (100, Some(300)));

    // Range 2's replica stalls past its lease; another takes the range over.
    // The first can neither renew nor finish it.
    let again = repo.claim_range(1_001, 2_000).await.unwrap();
    assert_eq!(again.as_ref(), Some(&r2), "only range 2 is free");
    assert!(!repo.renew_range(&r2, 1_000, 3_000).await.unwrap());
    assert_eq!(
        repo.finish_range(&r2, 1_000, 9_000).await.unwrap(),
        Finished::Lost
    );
    assert_eq!(
        repo.finish_range(&r2, 2_000, 9_000).await.unwrap(),
        Finished::Range
    );
    assert_eq!(
        schedule(&db, tenant).await,
        (100, Some(300)),
        "range 0 is left"
    );

    // The tenant's own lease ran out: claimed again, the pass is the same
    // one and already split.
    assert_eq!(
        repo.claim_tenant(1_100, 1_200).await.unwrap(),
        Some((tenant, 100))
    );
    assert!(repo.is_split(tenant, 100).await.unwrap());

    // The last range done: the tenant is rescheduled and released, the
    // pass's ranges gone.
    assert_eq!(
        repo.finish_range(&r0, 1_500, 9_000).await.unwrap(),
        Finished::Pass
    );
    assert_eq!(schedule(&db, tenant).await, (9_000, None));
    assert!(!repo.is_split(tenant, 100).await.unwrap());
    assert_eq!(repo.claim_range(5_000, 6_000).await.unwrap(), None);
    assert_eq!(
        repo.finish_range(&r0, 1_500, 9_500).await.unwrap(),
        Finished::Lost
    );
    // A replica that read the old pass late cannot split it again.
    assert!(!repo.split_pass(tenant, 100, &split(3)).await.unwrap());
    assert_eq!(repo.claim_tenant(8_000, 8_500).await.unwrap(), None);
    assert_eq!(
        repo.claim_tenant(9_000, 9_500).await.unwrap(),
        Some((tenant, 9_000))
    );
}
