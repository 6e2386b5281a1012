//! WatchScoreChanges on both stores: events with the right kinds as scores
//! change, a resume after a client restart and after a server restart with
//! nothing missed or repeated, one tenant's watcher blind to another's
//! changes, clear errors for garbage and expired tokens, and (Postgres) an
//! event whose transaction commits late is not skipped by a watcher that
//! already saw a later one commit.

mod support;

use std::time::Duration;

use chrono::Utc;
use prost::Message;
use rapport_kit::{
    backend_tests,
    internal::BearerAuth,
    testing::{self, Backend, bad_fields, reason},
};
use rapport_proto::v1::{
    RuleTrigger, ScoreChange, ScoreChangeEvent, ScoreChangeKind, WatchScoreChangesRequest,
    WatchScoreChangesResponse, WatchStart, score_changes_service_client::ScoreChangesServiceClient,
};
use support::{Harness, purchase, rules, start_with};
use tonic::{Code, Streaming, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

type FeedClient = ScoreChangesServiceClient<InterceptedService<Channel, BearerAuth>>;

/// How long a watcher waits for an event that must come: the read horizon
/// is the whole cluster's, so another test's open transaction delays it.
const PATIENCE: Duration = Duration::from_secs(20);

fn feed(h: &Harness, key: &str) -> FeedClient {
    ScoreChangesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap())
}

/// A watch from `token` (or from now), after its first response (which
/// carries no events and names where it starts).
async fn watch(
    client: &mut FeedClient,
    token: &str,
) -> (Streaming<WatchScoreChangesResponse>, String) {
    let request = WatchScoreChangesRequest {
        resume_token: token.to_owned(),
        start: WatchStart::Now as i32,
        kinds: Vec::new(),
    };
    let mut stream = client
        .watch_score_changes(request)
        .await
        .expect("watch")
        .into_inner();
    let first = stream
        .message()
        .await
        .expect("first")
        .expect("a first response");
    assert!(first.events.is_empty());
    (stream, first.resume_token)
}

/// The next `n` events, or a panic after [`PATIENCE`].
async fn events(
    stream: &mut Streaming<WatchScoreChangesResponse>,
    n: usize,
) -> Vec<ScoreChangeEvent> {
    let mut got = Vec::new();
    while got.len() < n {
        let r = tokio::time::timeout(PATIENCE, stream.message())
            .await
            .unwrap_or_else(|_| panic!("{} of {n} events came", got.len()))
            .expect("stream")
            .expect("stream open");
        got.extend(r.events);
    }
    assert_eq!(got.len(), n, "more events than expected: {got:?}");
    got
}

/// Asserts no event comes within `wait`.
async fn quiet(stream: &mut Streaming<WatchScoreChangesResponse>, wait: Duration) {
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(r) = tokio::time::timeout_at(deadline, stream.message()).await {
        let r = r.expect("stream").expect("stream open");
        assert!(r.events.is_empty(), "unexpected events: {:?}", r.events);
    }
}

fn kinds(e: &ScoreChangeEvent) -> Vec<(ScoreChangeKind, String, String)> {
    e.changes
        .iter()
        .map(|c: &ScoreChange| (c.kind(), c.from.clone(), c.to.clone()))
        .collect()
}

fn entered(segment: &str) -> (ScoreChangeKind, String, String) {
    (
        ScoreChangeKind::LifecycleEntered,
        String::new(),
        segment.to_owned(),
    )
}

fn left(segment: &str) -> (ScoreChangeKind, String, String) {
    (
        ScoreChangeKind::LifecycleLeft,
        segment.to_owned(),
        String::new(),
    )
}

fn days_ago(n: i64) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::days(n)
}

/// Customers the events are about, in order.
fn about(events: &[ScoreChangeEvent]) -> Vec<String> {
    events.iter().map(|e| e.customer_id.clone()).collect()
}

async fn resumes_after_client_and_server_restarts(backend: Backend) {
    let config = testing::config(backend).await;
    let h = start_with(config.clone()).await;
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    let (_, other_key) = h.ts.tenant("globex", "EUR").await;
    let mut client = feed(&h, &key);
    let (mut stream, _) = watch(&mut client, "").await;
    let mut other = feed(&h, &other_key);
    let (mut other_stream, _) = watch(&mut other, "").await;

    // A first purchase yesterday enters "new"; one 400 days ago enters
    // "lapsed", and a purchase today moves that customer to "active".
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    h.apply(acme.id, vec![purchase("a1", a, days_ago(1), 5_000)])
        .await
        .unwrap();
    h.apply(acme.id, vec![purchase("b1", b, days_ago(400), 5_000)])
        .await
        .unwrap();
    h.apply(acme.id, vec![purchase("b2", b, days_ago(0), 7_000)])
        .await
        .unwrap();
    // A repeat of a change already counted changes nothing: no event.
    h.apply(acme.id, vec![purchase("b2", b, days_ago(0), 7_000)])
        .await
        .unwrap();
    let got = events(&mut stream, 3).await;
    assert_eq!(about(&got), [a.to_string(), b.to_string(), b.to_string()]);
    assert_eq!(kinds(&got[0]), [entered("new")]);
    assert_eq!(kinds(&got[1]), [entered("lapsed")]);
    assert_eq!(kinds(&got[2]), [left("lapsed"), entered("active")]);
    let score = got[2].score.as_ref().expect("score after");
    assert_eq!(score.purchase_count, 2);
    assert_eq!(score.segment, "active");
    quiet(&mut stream, Duration::from_millis(600)).await;
    let token = got[2].resume_token.clone();
    drop(stream);

    // The client goes; changes happen; it comes back with its last token.
    let (c, d) = (Uuid::new_v4(), Uuid::new_v4());
    h.apply(acme.id, vec![purchase("c1", c, days_ago(2), 1_000)])
        .await
        .unwrap();
    h.apply(acme.id, vec![purchase("d1", d, days_ago(500), 1_000)])
        .await
        .unwrap();
    let (mut stream, start) = watch(&mut client, &token).await;
    assert_eq!(start, token);
    let got = events(&mut stream, 2).await;
    assert_eq!(about(&got), [c.to_string(), d.to_string()]);
    assert_eq!(kinds(&got[1]), [entered("lapsed")]);
    quiet(&mut stream, Duration::from_millis(600)).await;
    let token = got[1].resume_token.clone();
    drop(stream);

    // Another tenant's watcher saw none of it.
    quiet(&mut other_stream, Duration::from_millis(200)).await;
    drop(other_stream);

    // A change, the server restarted on the same store, another change: the
    // client resumes with its token and gets both, once each.
    let (e, f) = (Uuid::new_v4(), Uuid::new_v4());
    h.apply(acme.id, vec![purchase("e1", e, days_ago(3), 1_000)])
        .await
        .unwrap();
    let Harness { ts, scoring, .. } = h;
    drop(scoring);
    ts.stop().await;
    let h = start_with(config).await;
    h.apply(acme.id, vec![purchase("f1", f, days_ago(4), 1_000)])
        .await
        .unwrap();
    let mut client = feed(&h, &key);
    let (mut stream, _) = watch(&mut client, &token).await;
    let got = events(&mut stream, 2).await;
    assert_eq!(about(&got), [e.to_string(), f.to_string()]);
    quiet(&mut stream, Duration::from_millis(600)).await;
    let latest = got[1].resume_token.clone();
    drop(stream);

    // Filters keep only the kinds asked for, and tokens still move.
    let request = WatchScoreChangesRequest {
        resume_token: token.clone(),
        start: 0,
        kinds: vec![ScoreChangeKind::TierChanged as i32],
    };
    let mut filtered = client
        .watch_score_changes(request)
        .await
        .unwrap()
        .into_inner();
    let mut last = String::new();
    while last != latest {
        let r = tokio::time::timeout(PATIENCE, filtered.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(r.events.is_empty(), "no tier changes without a population");
        last = r.resume_token;
    }
    drop(filtered);

    // A token this service did not issue names the field.
    let bad = WatchScoreChangesRequest {
        resume_token: "not-a-token".into(),
        ..WatchScoreChangesRequest::default()
    };
    let status = client.watch_score_changes(bad).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(bad_fields(&status), ["resume_token"]);

    // Past the retention window every event is deleted: the old token is
    // refused, the newest still resumes (nothing after it was lost).
    let deleted = h
        .scoring
        .retire_changes_once(Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    assert_eq!(deleted, 7);
    let old = WatchScoreChangesRequest {
        resume_token: token,
        ..WatchScoreChangesRequest::default()
    };
    let status = client.watch_score_changes(old).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status), "RESUME_TOKEN_EXPIRED");
    assert!(
        status.message().contains("resume_token"),
        "{}",
        status.message()
    );
    let (mut stream, _) = watch(&mut client, &latest).await;
    let g = Uuid::new_v4();
    h.apply(acme.id, vec![purchase("g1", g, days_ago(1), 1_000)])
        .await
        .unwrap();
    assert_eq!(about(&events(&mut stream, 1).await), [g.to_string()]);
    drop(stream);

    // From the oldest retained: only what the retention pass left.
    let oldest = WatchScoreChangesRequest {
        start: WatchStart::OldestRetained as i32,
        ..WatchScoreChangesRequest::default()
    };
    let mut stream = client
        .watch_score_changes(oldest)
        .await
        .unwrap()
        .into_inner();
    stream.message().await.unwrap().unwrap();
    assert_eq!(about(&events(&mut stream, 1).await), [g.to_string()]);
    h.ts.stop().await;
}

backend_tests!(
    resumes_after_client_and_server_restarts,
    a_rule_setting_a_tier_is_a_tier_change,
    shutdown_ends_watches_with_unavailable,
    a_revoked_key_or_a_disabled_tenant_ends_the_watch,
    a_feed_switched_off_records_nothing_and_refuses_watches
);

/// `feed.enabled = false`: scores are still written, no event is recorded,
/// and WatchScoreChanges and PutScoreChangeSubscription say why they are
/// refused.
async fn a_feed_switched_off_records_nothing_and_refuses_watches(backend: Backend) {
    let mut config = testing::config(backend).await;
    config.update_section(|f: &mut rapport_scoring::FeedConfig| f.enabled = false);
    let h = start_with(config.clone()).await;
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    let c = Uuid::now_v7();
    let applied = h
        .apply(acme.id, vec![purchase("t1", c, days_ago(2), 1_000)])
        .await
        .expect("apply");
    assert_eq!(applied.applied, 1);
    let status = feed(&h, &key)
        .watch_score_changes(WatchScoreChangesRequest::default())
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(reason(&status), "FEED_DISABLED");
    let status = feed(&h, &key)
        .put_score_change_subscription(rapport_proto::v1::PutScoreChangeSubscriptionRequest {
            subscription: Some(rapport_proto::v1::ScoreChangeSubscription {
                name: "all".into(),
                endpoint: "crm".into(),
                ..Default::default()
            }),
            start: WatchStart::Now as i32,
        })
        .await
        .expect_err("refused");
    assert_eq!(reason(&status), "FEED_DISABLED");
    let store = rapport_kit::Db::connect_lazy(&config, rapport_scoring::SCHEMA).unwrap();
    let events: i64 = rapport_kit::on_pool!(&store, pool => {
        sqlx::query_scalar("SELECT count(*) FROM score_changes")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(events, 0, "nothing recorded");
    h.ts.stop().await;
}

/// The status a watch ends with, or a panic after [`PATIENCE`].
async fn ended(stream: &mut Streaming<WatchScoreChangesResponse>) -> tonic::Status {
    loop {
        match tokio::time::timeout(PATIENCE, stream.message())
            .await
            .expect("the watch ends")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the watch ended without a status"),
            Err(status) => return status,
        }
    }
}

/// A stream is held to its credential as every call is: disabling the
/// tenant, or revoking the key it was opened with, ends it with
/// UNAUTHENTICATED, and the watcher of another tenant is untouched.
async fn a_revoked_key_or_a_disabled_tenant_ends_the_watch(backend: Backend) {
    let h = start_with(testing::config(backend).await).await;
    let tenants = h.ts.app.auth.tenants().clone();
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    let (_, other_key) = h.ts.tenant("globex", "EUR").await;
    let mut other = feed(&h, &other_key);
    let (mut bystander, _) = watch(&mut other, "").await;

    let (mut stream, _) = watch(&mut feed(&h, &key), "").await;
    tenants
        .disable(
            "/rapport.v1.AdminService/DisableTenant",
            acme.id,
            "contract ended",
        )
        .await
        .expect("disable");
    let status = ended(&mut stream).await;
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    tenants
        .enable("/rapport.v1.AdminService/EnableTenant", acme.id)
        .await
        .expect("enable");
    let second = tenants
        .issue_key(acme.id, "second", None)
        .await
        .expect("a second key");
    let secret = second.secret.expect("a new key has its secret");
    let (mut stream, _) = watch(&mut feed(&h, &secret), "").await;
    tenants
        .revoke_key(acme.id, second.key.id)
        .await
        .expect("revoke");
    let status = ended(&mut stream).await;
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    // The first key works again since the enable.
    watch(&mut feed(&h, &key), "").await;
    quiet(&mut bystander, Duration::from_millis(500)).await;
    h.ts.stop().await;
}

/// A watch does not hold up a draining server: it ends with UNAVAILABLE
/// (resume elsewhere) and the server stops.
async fn shutdown_ends_watches_with_unavailable(backend: Backend) {
    let h = start_with(testing::config(backend).await).await;
    let (_, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = feed(&h, &key);
    let (mut stream, _) = watch(&mut client, "").await;
    let stopped = tokio::spawn(async move { h.ts.stop().await });
    let status = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("the watch ends")
        .expect_err("with a status");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("resume_token"), "{status:?}");
    tokio::time::timeout(PATIENCE, stopped)
        .await
        .expect("the server stops")
        .unwrap();
}

async fn a_rule_setting_a_tier_is_a_tier_change(backend: Backend) {
    let h = rules::start(backend).await;
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    let mut c = h.rules(&key);
    let mut d = rules::definition("vip", RuleTrigger::ScoreChange, "score.purchase_count >= 2");
    d.actions = vec![rules::set_tier("platinum")];
    rules::publish(&mut c, d).await;
    let mut client = feed(&h, &key);
    let (mut stream, _) = watch(&mut client, "").await;

    let a = Uuid::new_v4();
    let changes = vec![
        purchase("t1", a, days_ago(4), 1_000),
        purchase("t2", a, days_ago(4), 1_000),
    ];
    h.apply(acme.id, changes).await.unwrap();
    assert_eq!(kinds(&events(&mut stream, 1).await[0]), [entered("new")]);
    // No population yet, so no computed tier: the rule's is the first.
    rules::round(&h).await;
    let got = events(&mut stream, 1).await;
    let tier = (
        ScoreChangeKind::TierChanged,
        String::new(),
        "platinum".to_owned(),
    );
    assert_eq!(kinds(&got[0]), [tier]);
    assert_eq!(got[0].score.as_ref().unwrap().tier, "platinum");
    h.ts.stop().await;
}

/// A transaction that took its position first but commits last is still
/// delivered, before the events that committed while it was open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_below_a_seen_event_is_not_skipped() {
    use sqlx::Connection;
    let config = testing::config(Backend::Postgres).await;
    let url = config.database_url.as_ref().unwrap().expose().to_owned();
    let h = start_with(config).await;
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    let mut client = feed(&h, &key);
    let (mut stream, _) = watch(&mut client, "").await;

    let early = Uuid::new_v4();
    let event = ScoreChangeEvent {
        customer_id: early.to_string(),
        changes: vec![ScoreChange {
            kind: ScoreChangeKind::LifecycleEntered as i32,
            to: "new".into(),
            ..ScoreChange::default()
        }],
        ..ScoreChangeEvent::default()
    };
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut open = conn.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO scoring.score_changes (tenant_id, customer_id, at, event) \
         VALUES ($1, $2, now(), $3)",
    )
    .bind(acme.id)
    .bind(early)
    .bind(event.encode_to_vec())
    .execute(&mut *open)
    .await
    .unwrap();

    // A later transaction commits while the first is open: not delivered
    // yet, as the first could still commit below it.
    let late = Uuid::new_v4();
    h.apply(acme.id, vec![purchase("l1", late, days_ago(1), 1_000)])
        .await
        .unwrap();
    quiet(&mut stream, Duration::from_millis(1_500)).await;

    open.commit().await.unwrap();
    let got = events(&mut stream, 2).await;
    assert_eq!(about(&got), [early.to_string(), late.to_string()]);
    h.ts.stop().await;
}
