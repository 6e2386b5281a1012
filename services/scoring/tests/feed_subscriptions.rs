//! Score change subscriptions on both stores, delivered for real: the
//! scoring service hands events to the notifications service on the same
//! server, whose delivery worker posts them to a real HTTP receiver signed
//! with the endpoint's secret. Checked: every event the feed has is posted
//! once (the same events WatchScoreChanges streams), a kinds filter, a
//! worker that stopped after handing a post over (the post is not sent
//! twice), an endpoint deleted and registered again (the error shown, then
//! delivery resumes where it stood), clear errors, idempotent puts and
//! deletes, and one tenant's subscriptions blind to another's changes.

mod support;

use std::{collections::BTreeMap, time::Duration};

use chrono::Utc;
use rapport_kit::{
    Db,
    internal::BearerAuth,
    peers::PeerClients,
    testing::{self, Backend, bad_fields, reason, receiver::Receiver},
};
use rapport_notifications::config::NotifyConfig;
use rapport_proto::v1::{
    DeleteIntegrationEndpointRequest, DeleteScoreChangeSubscriptionRequest,
    GetScoreChangeSubscriptionRequest, ListScoreChangeSubscriptionsRequest,
    PutScoreChangeSubscriptionRequest, ScoreChangeKind, ScoreChangeSubscription,
    WatchScoreChangesRequest, WatchStart, score_changes_service_client::ScoreChangesServiceClient,
};
use support::{Harness, purchase, start_all};
use tonic::{Code, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

rapport_kit::backend_tests! {
    every_event_is_posted_once_signed_with_the_endpoint_secret,
    a_stopped_worker_and_a_deleted_endpoint_lose_and_repeat_nothing,
    puts_are_idempotent_and_bad_input_is_named,
}

type FeedClient = ScoreChangesServiceClient<InterceptedService<Channel, BearerAuth>>;

/// The endpoint's signing secret.
const SECRET: &str = "subscriber-secret-0123456789abcdef-0123";

/// How long a post that must come may take.
const PATIENCE: Duration = Duration::from_secs(20);

/// Scoring, profiles and notifications on one server, the notifications
/// delivery worker running (webhooks to 127.0.0.1 allowed), and a receiver.
async fn harness(backend: Backend) -> (Harness, Receiver) {
    let mut config = testing::config(backend).await;
    config.update_section(|n: &mut NotifyConfig| {
        n.allow_private_destinations = true;
        n.poll_interval_ms = 50;
        n.base_backoff_ms = 100;
    });
    let h = start_all(config, None, None).await;
    let clients = PeerClients::new(&h.ts.app.config).or_at(h.ts.url());
    let peers = rapport_notifications::connect_peers(&clients, &h.ts.app.internal).unwrap();
    let db = Db::connect_lazy(&h.ts.config, rapport_notifications::SCHEMA).unwrap();
    let settings = h.ts.config.section::<NotifyConfig>().unwrap();
    rapport_notifications::spawn_worker(db, settings, peers, h.ts.app.shutdown.clone())
        .expect("delivery worker");
    (h, Receiver::start().await)
}

fn feed(h: &Harness, key: &str) -> FeedClient {
    ScoreChangesServiceClient::with_interceptor(h.ts.channel(), BearerAuth::new(key).unwrap())
}

fn subscription(name: &str, endpoint: &str, kinds: &[ScoreChangeKind]) -> ScoreChangeSubscription {
    ScoreChangeSubscription {
        name: name.into(),
        endpoint: endpoint.into(),
        kinds: kinds.iter().map(|k| *k as i32).collect(),
        description: format!("{name} (test)"),
        ..Default::default()
    }
}

async fn put(
    client: &mut FeedClient,
    s: ScoreChangeSubscription,
) -> Result<(ScoreChangeSubscription, bool, bool), tonic::Status> {
    let r = client
        .put_score_change_subscription(PutScoreChangeSubscriptionRequest {
            subscription: Some(s),
            start: WatchStart::Now as i32,
        })
        .await?
        .into_inner();
    Ok((r.subscription.unwrap(), r.created, r.changed))
}

async fn get(client: &mut FeedClient, name: &str) -> ScoreChangeSubscription {
    client
        .get_score_change_subscription(GetScoreChangeSubscriptionRequest { name: name.into() })
        .await
        .expect("get subscription")
        .into_inner()
        .subscription
        .unwrap()
}

/// One delivery round, as the rules worker runs it on every poll.
async fn deliver(h: &Harness) {
    h.scoring
        .deliver_subscriptions_once()
        .await
        .expect("delivery round");
}

/// One event as posted: its customer, resume token and change kinds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Posted {
    customer: String,
    token: String,
    kinds: Vec<String>,
}

/// The posts the receiver accepted at `path`, checked as a receiver would
/// (the signature over the raw body with the endpoint's secret), each as the
/// subscription it names and its events.
fn posts(receiver: &Receiver, path: &str) -> Vec<(String, Vec<Posted>)> {
    receiver
        .accepted()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| {
            let header = r.header(rapport_notifications::SIGNATURE_HEADER).to_owned();
            let t: i64 = header
                .split(',')
                .find_map(|p| p.strip_prefix("t="))
                .and_then(|t| t.parse().ok())
                .expect("a signature time");
            assert_eq!(
                rapport_notifications::sign(SECRET, t, &r.body),
                header,
                "signed with the endpoint's secret"
            );
            let envelope = r.json();
            let body: serde_json::Value =
                serde_json::from_str(envelope["body"].as_str().expect("a body")).expect("json");
            let events = body["events"]
                .as_array()
                .expect("events")
                .iter()
                .map(|e| Posted {
                    customer: e["customerId"].as_str().unwrap().to_owned(),
                    token: e["resumeToken"].as_str().unwrap().to_owned(),
                    kinds: e["changes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["kind"].as_str().unwrap().to_owned())
                        .collect(),
                })
                .collect();
            (body["subscription"].as_str().unwrap().to_owned(), events)
        })
        .collect()
}

/// Waits until the receiver has accepted `n` posts at `path`.
async fn wait_posts(receiver: &Receiver, path: &str, n: usize) -> Vec<(String, Vec<Posted>)> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let got = posts(receiver, path);
        if got.len() >= n {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {n} posts came",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// First purchases of `n` new customers of `tenant`.
async fn purchases(h: &Harness, tenant: Uuid, n: usize) -> Vec<String> {
    let mut customers = Vec::new();
    for i in 0..n {
        let c = Uuid::now_v7();
        let at = Utc::now() - chrono::Duration::days(3);
        h.apply(tenant, vec![purchase(&format!("t-{c}-{i}"), c, at, 4_200)])
            .await
            .expect("apply");
        customers.push(c.to_string());
    }
    customers
}

/// Everything the feed holds for the key's tenant from its oldest event, as
/// WatchScoreChanges streams it.
async fn watched(client: &mut FeedClient, n: usize) -> Vec<Posted> {
    let mut stream = client
        .watch_score_changes(WatchScoreChangesRequest {
            resume_token: String::new(),
            start: WatchStart::OldestRetained as i32,
            kinds: Vec::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    let mut got = Vec::new();
    while got.len() < n {
        let r = tokio::time::timeout(PATIENCE, stream.message())
            .await
            .expect("events in time")
            .expect("stream")
            .expect("open");
        got.extend(r.events.into_iter().map(|e| {
            Posted {
                customer: e.customer_id.clone(),
                token: e.resume_token.clone(),
                kinds: e
                    .changes
                    .iter()
                    .map(|c| c.kind().as_str_name().to_owned())
                    .collect(),
            }
        }));
    }
    got
}

async fn every_event_is_posted_once_signed_with_the_endpoint_secret(backend: Backend) {
    let (h, receiver) = harness(backend).await;
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    let (globex, globex_key) = h.ts.tenant("globex", "EUR").await;
    h.register_endpoint_with(&key, "warehouse", &receiver.url("/acme"), SECRET)
        .await;
    h.register_endpoint_with(&globex_key, "warehouse", &receiver.url("/globex"), SECRET)
        .await;
    let mut client = feed(&h, &key);
    let (all, created, _) = put(&mut client, subscription("everything", "warehouse", &[]))
        .await
        .expect("put");
    assert!(created);
    assert_eq!(all.events_delivered, 0);
    put(
        &mut client,
        subscription(
            "lifecycle",
            "warehouse",
            &[ScoreChangeKind::LifecycleEntered],
        ),
    )
    .await
    .expect("put a filtered one");

    // 120 first purchases: more than one post holds (100 events at most).
    let customers = purchases(&h, acme.id, 120).await;
    // Another tenant's changes, which acme's subscriptions never see.
    purchases(&h, globex.id, 3).await;
    let feed_events = watched(&mut client, customers.len()).await;
    assert_eq!(
        feed_events.len(),
        customers.len(),
        "one event per first purchase"
    );

    // Two rounds at once: a subscription is leased to one of them.
    tokio::join!(deliver(&h), deliver(&h));
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let (a, l) = loop {
        let a = get(&mut client, "everything").await;
        let l = get(&mut client, "lifecycle").await;
        if a.events_delivered == 120 && l.events_delivered == 120 {
            break (a, l);
        }
        assert!(tokio::time::Instant::now() < deadline, "{a:?} {l:?}");
        deliver(&h).await;
    };
    assert!(a.posts >= 2, "120 events take more than one post");
    let got = wait_posts(&receiver, "/acme", (a.posts + l.posts) as usize).await;
    assert_eq!(
        got.len() as u64,
        a.posts + l.posts,
        "one post each, no more"
    );
    let mut everything: Vec<Posted> = Vec::new();
    let mut lifecycle: Vec<Posted> = Vec::new();
    for (name, events) in &got {
        assert!(events.len() <= 100, "at most 100 events a post");
        match name.as_str() {
            "everything" => everything.extend(events.iter().cloned()),
            "lifecycle" => lifecycle.extend(events.iter().cloned()),
            other => panic!("a post for {other}"),
        }
    }
    // Exactly the feed's events, once each. Posts are delivered
    // concurrently, so they may arrive in any order; inside each, the
    // events are in the feed's order.
    let order: BTreeMap<&str, usize> = feed_events
        .iter()
        .enumerate()
        .map(|(i, p)| (p.token.as_str(), i))
        .collect();
    for (_, events) in &got {
        let at: Vec<usize> = events.iter().map(|p| order[p.token.as_str()]).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "in order within a post");
    }
    everything.sort_by_key(|p| order[p.token.as_str()]);
    lifecycle.sort_by_key(|p| order[p.token.as_str()]);
    assert_eq!(everything, feed_events);
    assert_eq!(
        lifecycle.iter().map(|p| &p.customer).collect::<Vec<_>>(),
        customers.iter().collect::<Vec<_>>()
    );
    assert!(
        lifecycle.iter().all(|p| p.kinds == ["LIFECYCLE_ENTERED"]),
        "only the kinds asked for: {lifecycle:?}"
    );
    // Nothing of globex at acme's endpoint, and globex has no subscription.
    assert!(
        got.iter()
            .flat_map(|(_, e)| e)
            .all(|p| customers.contains(&p.customer))
    );
    assert!(posts(&receiver, "/globex").is_empty());

    assert_eq!(a.resume_token, feed_events.last().unwrap().token);
    assert!(a.last_error.is_empty() && a.last_post_at.is_some());

    // Caught up: another round posts nothing.
    deliver(&h).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(posts(&receiver, "/acme").len(), got.len());
    let other = feed(&h, &globex_key)
        .list_score_change_subscriptions(ListScoreChangeSubscriptionsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(other.subscriptions.is_empty());
    h.ts.stop().await;
}

async fn a_stopped_worker_and_a_deleted_endpoint_lose_and_repeat_nothing(backend: Backend) {
    let (h, receiver) = harness(backend).await;
    let (acme, key) = h.ts.tenant("acme", "EUR").await;
    h.register_endpoint_with(&key, "warehouse", &receiver.url("/hook"), SECRET)
        .await;
    let mut client = feed(&h, &key);
    put(&mut client, subscription("crm", "warehouse", &[]))
        .await
        .unwrap();
    let store = Db::connect_lazy(&h.ts.config, rapport_scoring::SCHEMA).unwrap();
    let place = || async {
        let at: (i64, i64) = rapport_kit::on_pool!(&store, pool => {
            sqlx::query_as("SELECT xid, seq FROM score_change_subscriptions WHERE name = 'crm'")
                .fetch_one(pool)
                .await
                .unwrap()
        });
        at
    };
    let start = place().await;
    let first = purchases(&h, acme.id, 2).await;
    watched(&mut client, 2).await;
    deliver(&h).await;
    let got = wait_posts(&receiver, "/hook", 1).await;
    let before = get(&mut client, "crm").await;
    assert_eq!(before.events_delivered, 2);

    // A worker that stopped after handing the post over but before
    // recording it leaves the place where the post started and the post's
    // end recorded: the next round hands the same post over again.
    let end = place().await;
    assert_ne!(start, end);
    rapport_kit::on_pool!(&store, pool => {
        sqlx::query(
            "UPDATE score_change_subscriptions SET xid = $1, seq = $2, batch_xid = $3, \
             batch_seq = $4, lease_owner = NULL, lease_until = NULL, next_at = created_at \
             WHERE name = 'crm'",
        )
        .bind(start.0)
        .bind(start.1)
        .bind(end.0)
        .bind(end.1)
        .execute(pool)
        .await
        .unwrap()
        .rows_affected()
    });
    deliver(&h).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        posts(&receiver, "/hook"),
        got,
        "the same post is not sent twice"
    );
    let after = get(&mut client, "crm").await;
    assert_eq!(after.resume_token, before.resume_token);
    assert_eq!(after.events_delivered, 2, "nor counted twice");

    // The endpoint deleted: the hand-over fails and says why; the place
    // stays. Registered again, delivery goes on from there.
    h.notifications(&key)
        .delete_integration_endpoint(DeleteIntegrationEndpointRequest {
            name: "warehouse".into(),
        })
        .await
        .unwrap();
    let second = purchases(&h, acme.id, 3).await;
    watched(&mut client, 5).await;
    deliver(&h).await;
    let failing = get(&mut client, "crm").await;
    assert!(
        failing.last_error.contains("warehouse"),
        "the error names the endpoint: {:?}",
        failing.last_error
    );
    assert!(failing.last_error_at.is_some());
    assert_eq!(failing.resume_token, before.resume_token);
    h.register_endpoint_with(&key, "warehouse", &receiver.url("/hook"), SECRET)
        .await;
    // The retry waits out its backoff (2 s after the first failure).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while get(&mut client, "crm").await.events_delivered < 5 {
        assert!(tokio::time::Instant::now() < deadline, "delivery resumed");
        tokio::time::sleep(Duration::from_millis(200)).await;
        deliver(&h).await;
    }
    let all = wait_posts(&receiver, "/hook", 2).await;
    let mut customers: Vec<String> = all
        .iter()
        .flat_map(|(_, e)| e.iter().map(|p| p.customer.clone()))
        .collect();
    let mut expected = [first, second].concat();
    // The two posts may arrive in either order.
    customers.sort();
    expected.sort();
    assert_eq!(customers, expected, "each event once");
    let resumed = get(&mut client, "crm").await;
    assert!(resumed.last_error.is_empty());
    h.ts.stop().await;
}

async fn puts_are_idempotent_and_bad_input_is_named(backend: Backend) {
    let (h, receiver) = harness(backend).await;
    let (_, key) = h.ts.tenant("acme", "EUR").await;
    h.register_endpoint_with(&key, "warehouse", &receiver.url("/hook"), SECRET)
        .await;
    let mut client = feed(&h, &key);

    let s = subscription("tiers", "warehouse", &[ScoreChangeKind::TierChanged]);
    let (made, created, changed) = put(&mut client, s.clone()).await.unwrap();
    assert!(created && !changed);
    let (again, created, changed) = put(&mut client, s.clone()).await.unwrap();
    assert!(!created && !changed, "the same values change nothing");
    assert_eq!(again.created_at, made.created_at);
    let mut wider = s.clone();
    wider.kinds.push(ScoreChangeKind::RfmSegmentChanged as i32);
    let (_, created, changed) = put(&mut client, wider).await.unwrap();
    assert!(!created && changed);
    let listed = client
        .list_score_change_subscriptions(ListScoreChangeSubscriptionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .subscriptions;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].kinds.len(), 2);

    // An endpoint the tenant never registered.
    let status = put(&mut client, subscription("lost", "nowhere", &[]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(reason(&status), "INTEGRATION_ENDPOINT_NOT_FOUND");
    assert!(status.message().contains("nowhere"), "{status:?}");

    // Every bad field named at once, and nothing saved.
    let mut bad = subscription("Not A Name", "", &[]);
    bad.kinds = vec![0, 99];
    let status = put(&mut client, bad).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = bad_fields(&status);
    for f in [
        "subscription.name",
        "subscription.endpoint",
        "subscription.kinds[0]",
        "subscription.kinds[1]",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    let status = client
        .get_score_change_subscription(GetScoreChangeSubscriptionRequest {
            name: "missing".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let mut deleted = BTreeMap::new();
    for _ in 0..2 {
        let r = client
            .delete_score_change_subscription(DeleteScoreChangeSubscriptionRequest {
                name: "tiers".into(),
            })
            .await
            .unwrap()
            .into_inner();
        *deleted.entry(r.deleted).or_insert(0) += 1;
    }
    assert_eq!(deleted, BTreeMap::from([(true, 1), (false, 1)]));
    assert!(
        client
            .list_score_change_subscriptions(ListScoreChangeSubscriptionsRequest {})
            .await
            .unwrap()
            .into_inner()
            .subscriptions
            .is_empty()
    );
    h.ts.stop().await;
}
