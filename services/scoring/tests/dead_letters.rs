//! Changes ApplyChanges cannot apply are kept as dead letters, one by one,
//! while the rest of the call is applied: bad fields, and a purchase that
//! would push a customer's totals past 64 bits (on both stores, with the
//! same reason). Dead letters are listed per tenant and re-driven once the
//! cause is fixed, each change still counted once.

mod support;

use chrono::Duration;
use rapport_kit::{
    db::Id,
    on_pool,
    testing::{Backend, ok},
};
use rapport_proto::v1::{
    ApplyChangesResponse, ChangeEvent, ChangeOutcome, ListDeadLettersRequest,
    RedriveDeadLettersRequest, change_event::Change,
};
use support::{ApiClient, Harness, bad_fields, day, eur, get, interaction, purchase, start_acme};
use tonic::Code;
use uuid::Uuid;

rapport_kit::backend_tests! {
    bad_changes_are_dead_lettered_alone,
    totals_past_the_range_are_dead_lettered_then_redriven,
}

/// The largest amount one transaction may carry.
const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// What the stores refuse a change with when totals would overflow.
const OUT_OF_RANGE: &str = "customer totals would exceed the representable range";

/// Each change's id, outcome and reason.
fn results(r: &ApplyChangesResponse) -> Vec<(String, ChangeOutcome, String)> {
    r.results
        .iter()
        .map(|c| (c.change_id.clone(), c.outcome(), c.reason.clone()))
        .collect()
}

/// The tenant's dead letters: id, reason and attempts, and the total.
async fn letters(client: &mut ApiClient) -> (Vec<(String, String, u32)>, u64) {
    let page = ok(client.list_dead_letters(ListDeadLettersRequest::default())).await;
    let letters = page
        .dead_letters
        .iter()
        .map(|l| (l.change_id.clone(), l.reason.clone(), l.attempts))
        .collect();
    (letters, page.total)
}

async fn bad_changes_are_dead_lettered_alone(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let good = purchase("txn:1", a, day(2025, 1, 1), 500);
    let mut foreign = interaction("evt:1", b, day(2025, 1, 2));
    foreign.customer_id = "not-a-uuid".into();
    let mut usd = purchase("txn:3", b, day(2025, 1, 3), 10);
    if let Some(Change::Transaction(t)) = &mut usd.change {
        t.currency_code = "USD".into();
    }
    let negative = purchase("txn:2", b, day(2025, 1, 1), -5);
    let call = vec![good.clone(), negative.clone(), foreign, usd, good.clone()];
    let r = h.apply(tenant.id, call.clone()).await.unwrap();
    assert_eq!((r.applied, r.duplicates, r.dead_lettered), (1, 1, 3));
    let got = results(&r);
    let outcomes: Vec<(&str, ChangeOutcome)> =
        got.iter().map(|(id, o, _)| (id.as_str(), *o)).collect();
    assert_eq!(
        outcomes,
        [
            ("txn:1", ChangeOutcome::Applied),
            ("txn:2", ChangeOutcome::DeadLettered),
            ("evt:1", ChangeOutcome::DeadLettered),
            ("txn:3", ChangeOutcome::DeadLettered),
            ("txn:1", ChangeOutcome::Duplicate),
        ]
    );
    // Each reason names the bad field.
    assert!(got[0].2.is_empty() && got[4].2.is_empty());
    assert!(
        got[1].2.starts_with("transaction.amount_minor: "),
        "{}",
        got[1].2
    );
    assert!(got[2].2.starts_with("customer_id: "), "{}", got[2].2);
    assert!(
        got[3].2.starts_with("transaction.currency_code: "),
        "{}",
        got[3].2
    );

    // The good change counted once; the bad ones wrote nothing.
    let (s, _) = get(&mut client, a).await.unwrap();
    assert_eq!((s.purchase_count, s.purchase_total), (1, eur(500)));
    assert_eq!(
        get(&mut client, b).await.unwrap_err().code(),
        Code::NotFound
    );

    // The tenant sees them by change id, the change as delivered.
    let page = ok(client.list_dead_letters(ListDeadLettersRequest::default())).await;
    let ids: Vec<&str> = page
        .dead_letters
        .iter()
        .map(|l| l.change_id.as_str())
        .collect();
    assert_eq!((ids, page.total), (vec!["evt:1", "txn:2", "txn:3"], 3));
    let txn2 = &page.dead_letters[1];
    assert_eq!(txn2.change.as_ref(), Some(&negative));
    assert_eq!(
        (txn2.customer_id.clone(), txn2.attempts),
        (b.to_string(), 1)
    );
    assert!(txn2.first_seen_at.is_some() && txn2.first_seen_at == txn2.last_seen_at);

    // Delivered again: still dead, one attempt more; the good one a duplicate.
    let r = h.apply(tenant.id, call).await.unwrap();
    assert_eq!((r.applied, r.duplicates, r.dead_lettered), (0, 2, 3));
    let (listed, total) = letters(&mut client).await;
    assert_eq!(total, 3);
    assert!(listed.iter().all(|(_, _, attempts)| *attempts == 2));

    // Pages of two.
    let first = ok(client.list_dead_letters(ListDeadLettersRequest {
        page_size: 2,
        page_token: String::new(),
    }))
    .await;
    assert_eq!(first.dead_letters.len(), 2);
    let second = ok(client.list_dead_letters(ListDeadLettersRequest {
        page_size: 2,
        page_token: first.next_page_token.clone(),
    }))
    .await;
    assert_eq!(second.dead_letters[0].change_id, "txn:3");
    assert!(second.next_page_token.is_empty());

    // Another tenant sees none of them and cannot re-drive them.
    let (_, mut other) = h.tenant("globex").await;
    assert_eq!(letters(&mut other).await, (vec![], 0));
    let redriven = ok(other.redrive_dead_letters(RedriveDeadLettersRequest {
        change_ids: vec!["txn:2".into()],
    }))
    .await;
    assert_eq!((redriven.results.len(), redriven.remaining), (0, 0));
    assert_eq!(letters(&mut client).await.1, 3);

    // Only a call of too many changes is refused whole.
    let too_many = (0..5_001)
        .map(|i| purchase(&format!("t{i}"), a, day(2025, 1, 1), 1))
        .collect::<Vec<ChangeEvent>>();
    assert_eq!(
        bad_fields(&h.apply(tenant.id, too_many).await.unwrap_err()),
        ["changes"]
    );
    h.ts.stop().await;
}

/// Gives `customer` 9,223 purchases of [`MAX_AMOUNT`], one a day: totals
/// within 10^15 of `i64::MAX`.
async fn near_the_limit(h: &Harness, tenant: Uuid, customer: Uuid) {
    let changes: Vec<ChangeEvent> = (0..9_223)
        .map(|i| {
            let at = day(2001, 1, 1) + Duration::days(i);
            purchase(&format!("txn:near-{i}"), customer, at, MAX_AMOUNT)
        })
        .collect();
    for call in changes.chunks(5_000) {
        let r = h.apply(tenant, call.to_vec()).await.unwrap();
        assert_eq!(r.applied as usize, call.len());
    }
}

async fn totals_past_the_range_are_dead_lettered_then_redriven(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
    near_the_limit(&h, tenant.id, x).await;
    let before = get(&mut client, x).await.unwrap().0;
    assert_eq!(before.purchase_total, eur(9_223 * MAX_AMOUNT));

    // One more purchase would pass i64::MAX: only it is left out.
    let over = purchase("txn:over", x, day(2026, 1, 2), MAX_AMOUNT);
    let call = vec![
        over,
        purchase("txn:y", y, day(2026, 1, 2), 500),
        interaction("evt:x", x, day(2026, 1, 3)),
    ];
    let r = h.apply(tenant.id, call).await.unwrap();
    assert_eq!(
        results(&r),
        [
            (
                "txn:over".to_owned(),
                ChangeOutcome::DeadLettered,
                OUT_OF_RANGE.to_owned()
            ),
            ("txn:y".to_owned(), ChangeOutcome::Applied, String::new()),
            ("evt:x".to_owned(), ChangeOutcome::Applied, String::new()),
        ]
    );
    let (s, _) = get(&mut client, x).await.unwrap();
    assert_eq!((s.purchase_count, s.interaction_count), (9_223, 1));
    assert_eq!(s.purchase_total, before.purchase_total);
    let (s, _) = get(&mut client, y).await.unwrap();
    assert_eq!((s.purchase_count, s.purchase_total), (1, eur(500)));
    let expected = vec![("txn:over".to_owned(), OUT_OF_RANGE.to_owned(), 1)];
    assert_eq!(letters(&mut client).await, (expected, 1));

    // Re-driven before any fix: still dead, one attempt more.
    let r = ok(client.redrive_dead_letters(RedriveDeadLettersRequest::default())).await;
    assert_eq!(r.results[0].outcome(), ChangeOutcome::DeadLettered);
    assert_eq!(
        (r.results[0].reason.as_str(), r.remaining),
        (OUT_OF_RANGE, 1)
    );
    assert_eq!(letters(&mut client).await.0[0].2, 2);

    // An operator repairs the customer's totals (say, after a correction
    // of the source data); re-driving then applies the purchase once.
    lower_totals(&h, tenant.id, x, 1_000 * MAX_AMOUNT).await;
    let r = ok(client.redrive_dead_letters(RedriveDeadLettersRequest::default())).await;
    let redriven: Vec<(&str, ChangeOutcome)> = r
        .results
        .iter()
        .map(|c| (c.change_id.as_str(), c.outcome()))
        .collect();
    assert_eq!(redriven, [("txn:over", ChangeOutcome::Applied)]);
    assert_eq!(r.remaining, 0);
    assert_eq!(letters(&mut client).await, (vec![], 0));
    let (s, _) = get(&mut client, x).await.unwrap();
    assert_eq!(s.purchase_count, 9_224);
    assert_eq!(s.purchase_total, eur(8_224 * MAX_AMOUNT));

    // Idempotent: nothing left to re-drive, and a late redelivery of the
    // change by the relay is a duplicate.
    let r = ok(client.redrive_dead_letters(RedriveDeadLettersRequest::default())).await;
    assert_eq!((r.results.len(), r.remaining), (0, 0));
    let late = purchase("txn:over", x, day(2026, 1, 2), MAX_AMOUNT);
    let r = h.apply(tenant.id, vec![late]).await.unwrap();
    assert_eq!((r.applied, r.duplicates), (0, 1));
    assert_eq!(get(&mut client, x).await.unwrap().0.purchase_count, 9_224);
    h.ts.stop().await;
}

/// Takes `by` off the stored purchase and margin totals of `customer`.
async fn lower_totals(h: &Harness, tenant: Uuid, customer: Uuid, by: i64) {
    let db = h.ts.app.db(rapport_scoring::SCHEMA).unwrap();
    on_pool!(&db, pool => {
        sqlx::query(
            "UPDATE customer_scores SET purchase_total_minor = purchase_total_minor - $3, \
             margin_total_minor = margin_total_minor - $3 \
             WHERE tenant_id = $1 AND customer_id = $2",
        )
        .bind(Id(tenant))
        .bind(Id(customer))
        .bind(by)
        .execute(pool)
        .await
        .unwrap();
        // The per-category totals are the customer's totals too.
        sqlx::query(
            "UPDATE customer_categories SET net_minor = net_minor - $3 \
             WHERE tenant_id = $1 AND customer_id = $2",
        )
        .bind(Id(tenant))
        .bind(Id(customer))
        .bind(by)
        .execute(pool)
        .await
        .unwrap();
    });
    // The cached score predates the repair.
    h.cache.delete(&h.key(tenant, customer)).await.unwrap();
}
