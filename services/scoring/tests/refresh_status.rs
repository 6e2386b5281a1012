//! The model refresh's status on both storage backends, as ListModelFits
//! serves it: why the models did not change (data that cannot be fitted),
//! the outcome once they can be fitted, by the background refresh and by
//! FitModels, and tenant isolation.

mod support;

use chrono::{Duration, Utc};
use prost_types::Timestamp;
use rapport_kit::{
    domain::chrono_to_timestamp,
    testing::{Backend, ok},
};
use rapport_proto::v1::{ListModelFitsRequest, RefreshStatus};
use rapport_scoring::RefreshOptions;
use support::{ApiClient, Harness, apply_all, fit_models, population, purchase, start_acme};
use uuid::Uuid;

rapport_kit::backend_tests! {
    unfittable_data_then_a_fit_are_reported, the_background_refresh_reports_a_fit,
    refresh_status_is_isolated_by_tenant,
}

/// The refresh status ListModelFits serves.
async fn status(client: &mut ApiClient) -> Option<RefreshStatus> {
    ok(client.list_model_fits(ListModelFitsRequest::default()))
        .await
        .refresh
}

/// One pass of the background refresh over every tenant due now.
async fn refresh_once(h: &Harness) {
    h.scoring
        .run_refresh_once(RefreshOptions::default())
        .await
        .expect("refresh pass");
}

/// One customer who bought on four days: too few customers to fit.
async fn one_customer(h: &Harness, tenant: Uuid) {
    let now = Utc::now();
    let a = Uuid::new_v4();
    let changes = (0..4)
        .map(|i| purchase(&format!("a{i}"), a, now - Duration::days(10 * i + 1), 1_000))
        .collect();
    h.apply(tenant, changes).await.unwrap();
}

/// Now, at the microsecond precision the stores keep.
fn now_micros() -> Timestamp {
    let mut t = chrono_to_timestamp(Utc::now());
    t.nanos -= t.nanos % 1_000;
    t
}

/// Whether `ts` is set and not before `than`.
fn after(ts: &Option<Timestamp>, than: &Timestamp) -> bool {
    ts.as_ref()
        .is_some_and(|t| (t.seconds, t.nanos) >= (than.seconds, than.nanos))
}

async fn unfittable_data_then_a_fit_are_reported(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    // Never scheduled: no status yet.
    assert_eq!(status(&mut client).await, None);

    one_customer(&h, tenant.id).await;
    let before = now_micros();
    refresh_once(&h).await;
    let s = status(&mut client).await.expect("status after a refresh");
    assert_eq!(s.last_outcome, "unfittable");
    assert!(s.last_error.contains("only 1 customer"), "{}", s.last_error);
    assert_eq!(s.last_success_at, None);
    assert!(s.last_attempt_at.is_some());
    assert!(after(&s.next_due_at, &before), "{s:?}");
    let list = ok(client.list_model_fits(ListModelFitsRequest::default())).await;
    assert!(list.fits.is_empty());

    // Enough data arrives; the next refresh (on demand here, as the tenant
    // is not due again for a fit interval) fits and says so.
    let now = Utc::now();
    let ids: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(5), &ids, now, 730);
    apply_all(&h, tenant.id, &txns, 500).await;
    let before = now_micros();
    let fitted = fit_models(&mut client).await.unwrap();
    assert!(fitted.created);
    let s = status(&mut client).await.expect("status after the fit");
    assert_eq!(s.last_outcome, "fitted");
    assert_eq!(s.last_error, "");
    assert!(s.last_success_at.is_some());
    assert_eq!(s.last_success_at, s.last_attempt_at);
    assert!(after(&s.next_due_at, &before), "{s:?}");

    // Unchanged data: nothing refitted, still a success.
    let again = fit_models(&mut client).await.unwrap();
    assert!(!again.created);
    let s2 = status(&mut client).await.expect("status after a repeat");
    assert_eq!(s2.last_outcome, "unchanged");
    assert_eq!(s2.last_error, "");
    assert_eq!(s2.last_success_at, s2.last_attempt_at);
    h.ts.stop().await;
}

async fn the_background_refresh_reports_a_fit(backend: Backend) {
    let (h, tenant, mut client) = start_acme(backend).await;
    let now = Utc::now();
    let ids: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(13), &ids, now, 730);
    apply_all(&h, tenant.id, &txns, 500).await;
    let before = now_micros();
    refresh_once(&h).await;
    let list = ok(client.list_model_fits(ListModelFitsRequest::default())).await;
    assert_eq!(list.fits.len(), 1);
    let s = list.refresh.expect("status after a refresh");
    assert_eq!(s.last_outcome, "fitted");
    assert_eq!(s.last_error, "");
    assert!(after(&s.last_success_at, &before), "{s:?}");
    assert!(after(&s.next_due_at, &before), "{s:?}");
    // Not due again yet: another pass leaves the status as it is.
    refresh_once(&h).await;
    assert_eq!(status(&mut client).await, Some(s));
    h.ts.stop().await;
}

async fn refresh_status_is_isolated_by_tenant(backend: Backend) {
    let (h, acme, mut a) = start_acme(backend).await;
    let (globex, mut g) = h.tenant("globex").await;
    one_customer(&h, acme.id).await;
    refresh_once(&h).await;
    let acme_status = status(&mut a).await.expect("acme's status");
    assert_eq!(acme_status.last_outcome, "unfittable");

    // Globex has no data and was never refreshed: it sees no status at all,
    // not acme's.
    assert_eq!(status(&mut g).await, None);

    // Once globex has its own (fittable) data it sees its own status only,
    // and acme's is untouched.
    let now = Utc::now();
    let ids: Vec<Uuid> = (0..150).map(|_| Uuid::new_v4()).collect();
    let txns = population::simulate(&mut population::rng(17), &ids, now, 730);
    apply_all(&h, globex.id, &txns, 500).await;
    refresh_once(&h).await;
    let globex_status = status(&mut g).await.expect("globex's status");
    assert_eq!(globex_status.last_outcome, "fitted");
    assert_eq!(globex_status.last_error, "");
    assert_eq!(status(&mut a).await, Some(acme_status));
    h.ts.stop().await;
}
