//! The reads the stored figures are computed from, on both stores: the
//! bounded count, and the summary read page by page (ties in net spend
//! across page boundaries) equal to the one read in one snapshot.

use chrono::{Duration, SubsecRound, Utc};
use rapport_kit::{
    Db,
    db::{Id, Time},
    on_pool,
    testing::{self, Backend},
};
use uuid::Uuid;

use super::{FiguresRepo, summary::paged};
use crate::repo::ScoreRepo;

rapport_kit::backend_tests! {
    paged_figures_match_the_snapshot,
}

async fn paged_figures_match_the_snapshot(backend: Backend) {
    let config = testing::config(backend).await;
    let db = Db::connect_lazy(&config, crate::SCHEMA).unwrap();
    db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await.unwrap();
    let (tenant, other) = (Uuid::new_v4(), Uuid::new_v4());
    let now = Utc::now().trunc_subsecs(3);
    // 25 customers, net spend from -200 to 400 in steps of 100 (ties of
    // three or four), bought 0 to 24 weeks ago; and one of another tenant.
    let rows = (0..25)
        .map(|i| (tenant, (i % 7) * 100 - 200, i))
        .chain([(other, 9_999, 0)]);
    for (t, net, weeks) in rows {
        let at = Time(now - Duration::weeks(weeks));
        on_pool!(&db, pool => {
            sqlx::query(
                "INSERT INTO customer_scores (tenant_id, customer_id, version, \
                 first_purchase_at, last_purchase_at, purchase_count, refund_count, \
                 purchase_total_minor, refund_total_minor, currency_code, interaction_count, \
                 updated_at) VALUES ($1, $2, 1, $3, $3, 1, 0, $4, 0, 'EUR', 0, $3)",
            )
            .bind(Id(t))
            .bind(Id(Uuid::new_v4()))
            .bind(at)
            .bind(net)
            .execute(pool)
            .await
            .unwrap();
        });
    }
    let repo = FiguresRepo::new(db.clone(), db.clone());
    assert_eq!(repo.count_upto(tenant, 4).await.unwrap(), 4);
    assert_eq!(repo.count_upto(tenant, 100).await.unwrap(), 25);
    assert_eq!(repo.net_bounds(tenant).await.unwrap(), Some((-200, 400)));
    assert_eq!(repo.net_bounds(Uuid::new_v4()).await.unwrap(), None);

    let snapshot = ScoreRepo::with_reader(db.clone(), db.clone());
    let whole = snapshot.summarize(tenant, now).await.unwrap();
    assert_eq!(whole.customers, 25);
    for (count_page, page) in [(1, 1), (3, 4), (7, 5), (100, 100)] {
        let got = paged(&repo, tenant, now, count_page, page).await.unwrap();
        assert_eq!(got, whole, "pages of {count_page} and {page}");
    }
    let none = paged(&repo, Uuid::new_v4(), now, 3, 4).await.unwrap();
    assert_eq!((none.customers, none.percentiles.len()), (0, 0));
}
