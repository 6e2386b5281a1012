//! GDPR export and erasure end to end, on both stores with Redis: a customer
//! with data in every service is exported (each part present), erased, and
//! then no table of any schema, nor the cache, holds their ids, external
//! ids, email or phone. Erasing again changes nothing; another tenant can
//! neither export nor erase them; a service down makes the erasure
//! UNAVAILABLE, and a retry completes it.

mod residue;

use std::time::Duration;

use rapport::client::Clients;
use rapport_kit::{
    config::{Config, Secret},
    testing::{self, Backend, ok},
};
use rapport_proto::v1::{
    AddIdentityRequest, Channel, ContactPolicy, Customer, CustomerRecord, EraseCustomerRequest,
    ExportCustomerRequest, ExternalIdentity, GetCustomerRequest, GetNotificationRequest,
    GetReportRequest, IngestTransactionsRequest, ListAuditEventsRequest, ListNotificationsRequest,
    LookupCustomerRequest, NotificationStatus, Purpose, PutScoreChangeSubscriptionRequest,
    ScoreChangeSubscription, SendNotificationRequest, StartReportRequest,
    UpdateContactPolicyRequest, UpdateCustomerRequest, UpsertCustomersRequest, WatchStart,
};
use rapport_tests::{all_in_one, world::World};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

fn config_with_redis(mut config: Config) -> Config {
    config.redis_url = Some(Secret::new(testing::redis_url()));
    config
}

/// A webhook receiver answering 200 to everything; its URL.
async fn receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    format!("http://{addr}/hook")
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

/// Polls `f` every 100 ms for at most 30 s until it holds.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never happened");
}

/// A customer known to the ERP as `erp_id` (with `email`, if not empty)
/// and one purchase of theirs, `transaction_id`; the customer's id.
async fn customer_with_a_purchase(
    c: &mut Clients,
    erp_id: &str,
    email: &str,
    transaction_id: &str,
) -> String {
    let upsert = ok(c.profiles.upsert_customers(UpsertCustomersRequest {
        customers: vec![CustomerRecord {
            identity: rapport_tests::erp_customer(erp_id),
            email: email.into(),
            ..Default::default()
        }],
    }))
    .await;
    let done = ok(c.ingestion.ingest_transactions(IngestTransactionsRequest {
        transactions: vec![rapport_tests::purchase(transaction_id, erp_id, 3, 5_000)],
    }))
    .await;
    assert_eq!(done.accepted, 1);
    upsert.customer_ids[0].clone()
}

async fn export(c: &mut Clients, id: &str) -> Value {
    let answer = ok(c.profiles.export_customer(ExportCustomerRequest {
        customer_id: id.into(),
    }))
    .await;
    assert!(!answer.truncated);
    serde_json::from_str(&answer.json).expect("export is JSON")
}

fn len(doc: &Value, path: &[&str]) -> usize {
    let mut v = doc;
    for p in path {
        v = &v[*p];
    }
    v.as_array().map_or(0, Vec::len)
}

/// The customer's texts an erasure must remove everywhere.
struct Needles {
    id: String,
    erp: String,
    pos: String,
    email: String,
    phone: String,
}

impl Needles {
    fn all(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.erp.clone(),
            self.pos.clone(),
            self.email.clone(),
            self.phone.clone(),
        ]
    }
}

/// Gives the world's person a phone of their own, a second identity, a
/// child account, a sent notification and a dead letter; waits for the rule
/// to fire for them and their score to be cached.
async fn enrich(
    c: &mut Clients,
    w: &World,
    suite: &rapport::suite::Suite,
    tenant: uuid::Uuid,
) -> Needles {
    let phone = format!("+4917{}", &uuid::Uuid::new_v4().as_u128().to_string()[..9]);
    let pos = format!("{}-pos-C", w.prefix);
    ok(c.profiles.update_customer(UpdateCustomerRequest {
        customer: Some(Customer {
            id: w.customer_id.clone(),
            phone: phone.clone(),
            ..Default::default()
        }),
        update_mask: mask(&["phone"]),
    }))
    .await;
    ok(c.profiles.add_identity(AddIdentityRequest {
        customer_id: w.customer_id.clone(),
        identity: Some(ExternalIdentity {
            source: "pos".into(),
            external_id: pos.clone(),
        }),
    }))
    .await;
    ok(c.profiles.update_customer(UpdateCustomerRequest {
        customer: Some(Customer {
            id: w.child_id.clone(),
            parent_id: w.customer_id.clone(),
            ..Default::default()
        }),
        update_mask: mask(&["parent_id"]),
    }))
    .await;
    let me = ok(c.profiles.get_customer(GetCustomerRequest {
        customer_id: w.customer_id.clone(),
    }))
    .await
    .customer
    .expect("customer");
    ok(c.notifications
        .update_contact_policy(UpdateContactPolicyRequest {
            policy: Some(ContactPolicy {
                max_messages: 100,
                window_hours: 24,
                cool_down_hours: 1,
                quiet_start_hour: 0,
                quiet_end_hour: 0,
            }),
        }))
    .await;
    let sent = ok(c.notifications.send_notification(SendNotificationRequest {
        dedupe_key: format!("{}-receipt-{}", w.prefix, w.customer_id),
        customer_id: w.customer_id.clone(),
        channel: Channel::Webhook as i32,
        destination: receiver().await,
        subject: format!("receipt for {}", me.email),
        body: format!("call {phone}"),
        purpose: Purpose::Transactional as i32,
        ..Default::default()
    }))
    .await
    .notification
    .expect("notification");
    let mut n = c.notifications.clone();
    eventually("the receipt's delivery", || {
        let (mut n, id) = (n.clone(), sent.id.clone());
        async move {
            n.get_notification(GetNotificationRequest {
                notification_id: id,
            })
            .await
            .ok()
            .and_then(|r| r.into_inner().notification)
            .is_some_and(|n| n.status == NotificationStatus::Delivered as i32)
        }
    })
    .await;
    // One still queued: due tomorrow.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let queued = ok(n.send_notification(SendNotificationRequest {
        dedupe_key: format!("{}-reminder", w.prefix),
        customer_id: w.customer_id.clone(),
        channel: Channel::Webhook as i32,
        destination: receiver().await,
        subject: format!("reminder for {}", me.email),
        body: "see you".into(),
        purpose: Purpose::Transactional as i32,
        send_at: Some(rapport_kit::domain::chrono_to_timestamp(tomorrow)),
        ..Default::default()
    }))
    .await
    .notification
    .expect("notification");
    assert_eq!(queued.status, NotificationStatus::Scheduled as i32);
    // A subscription posting every score change of the tenant to its CRM:
    // such a post names the customer only inside its body.
    ok(c.score_changes
        .put_score_change_subscription(PutScoreChangeSubscriptionRequest {
            subscription: Some(ScoreChangeSubscription {
                name: format!("{}-all", w.prefix),
                endpoint: format!("{}-crm", w.prefix),
                ..Default::default()
            }),
            start: WatchStart::OldestRetained as i32,
        }))
    .await;
    eventually("a subscription post about the customer", || {
        let (mut n, id) = (n.clone(), w.customer_id.clone());
        let crm = format!("{}-crm", w.prefix);
        async move {
            n.list_notifications(ListNotificationsRequest {
                page_size: 100,
                ..Default::default()
            })
            .await
            .is_ok_and(|r| {
                r.into_inner()
                    .notifications
                    .iter()
                    .any(|n| n.integration_endpoint == crm && n.body.contains(&id))
            })
        }
    })
    .await;
    // A stored report ranking the customer among the top spenders (the
    // refresh worker runs the queued run; a new one is asked for until one
    // ran after the customer's purchases were scored).
    eventually("a report ranking the customer", || {
        let (mut r, id) = (c.reports.clone(), w.customer_id.clone());
        let request_id = format!("{}-report-{}", w.prefix, uuid::Uuid::new_v4());
        async move {
            let _ = r
                .start_report(StartReportRequest {
                    request_id,
                    rankings: Vec::new(),
                })
                .await;
            r.get_report(GetReportRequest::default())
                .await
                .is_ok_and(|g| {
                    g.into_inner().report.is_some_and(|report| {
                        report
                            .rankings
                            .iter()
                            .flat_map(|k| &k.customers)
                            .any(|c| c.customer_id == id)
                    })
                })
        }
    })
    .await;
    w.dead_letter(&suite.url(), &suite.app.internal, tenant)
        .await;
    Needles {
        id: w.customer_id.clone(),
        erp: w.identity.external_id.clone(),
        pos,
        email: me.email,
        phone,
    }
}

/// Hits outside the audit trail, and those inside it. The trail's consent
/// events name the customer (`customer:<id>/consent/<channel>`) until an
/// erasure renames them after itself.
fn split_audit(hits: Vec<residue::Hit>) -> (Vec<residue::Hit>, Vec<residue::Hit>) {
    hits.into_iter()
        .partition(|(place, _)| !place.contains("audit_events"))
}

async fn erase_leaves_nothing(backend: Backend) {
    let config = config_with_redis(testing::config(backend).await);
    let suite = all_in_one::serving(config.clone()).await;
    let (tenant, key) = all_in_one::tenant(&suite, "globex").await;
    let (_, other_key) = all_in_one::tenant(&suite, "acme").await;
    let mut c = all_in_one::clients(&suite, &key);
    let mut other = all_in_one::clients(&suite, &other_key);
    let prefix = format!("g{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let w = World::create(&mut c, &suite.url(), &key, &prefix).await;
    let needles = enrich(&mut c, &w, &suite, tenant.id).await;

    // The rule fired for the person, and their score is in Redis.
    let mut firing = Value::Null;
    for _ in 0..300 {
        let doc = export(&mut c, &w.customer_id).await;
        if len(&doc, &["scoring", "firings"]) > 0 {
            firing = doc;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let doc = firing;
    assert!(
        len(&doc, &["scoring", "firings"]) > 0,
        "the rule never fired: {doc}"
    );
    let cached = residue::redis_entries(&testing::redis_url(), &config.cache_prefix).await;
    assert!(
        cached.iter().any(|(k, _)| k.contains(&w.customer_id)),
        "the score is cached: {:?}",
        cached.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );

    // The export holds every part.
    assert_eq!(doc["customer_id"], w.customer_id.as_str());
    assert_eq!(doc["profile"]["email"], needles.email.as_str());
    assert_eq!(doc["profile"]["phone"], needles.phone.as_str());
    assert_eq!(len(&doc, &["profile", "identities"]), 2, "{doc}");
    assert_eq!(len(&doc, &["profile", "consents"]), 2, "{doc}");
    assert!(doc["profile"]["attributes"]["region"].is_string(), "{doc}");
    assert_eq!(len(&doc, &["ingestion", "transactions"]), 4, "{doc}");
    assert_eq!(len(&doc, &["ingestion", "events"]), 1, "{doc}");
    assert_eq!(len(&doc, &["scoring", "score"]), 1, "{doc}");
    assert!(len(&doc, &["scoring", "monthly"]) > 0, "{doc}");
    // The world's (dead-lettered by now), the receipt and the reminder.
    assert_eq!(len(&doc, &["notifications", "notifications"]), 3, "{doc}");

    // Another tenant can neither see nor erase them.
    let refused = other
        .profiles
        .export_customer(ExportCustomerRequest {
            customer_id: w.customer_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    let nothing = ok(other.profiles.erase_customer(EraseCustomerRequest {
        customer_id: w.customer_id.clone(),
    }))
    .await;
    assert!(
        !nothing.erased && nothing.erasure_id.is_empty(),
        "{nothing:?}"
    );
    ok(c.profiles.get_customer(GetCustomerRequest {
        customer_id: w.customer_id.clone(),
    }))
    .await;

    // Bad input names the field.
    let bad = c
        .profiles
        .erase_customer(EraseCustomerRequest::default())
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(testing::bad_fields(&bad), ["customer_id"]);

    let before = residue::find(&config, &needles.all()).await;
    let (outside, audit) = split_audit(before);
    assert!(
        outside.len() > 10,
        "the customer is stored widely first: {outside:?}"
    );
    assert!(
        audit
            .iter()
            .any(|(place, needle)| place.ends_with("audit_events.target") && *needle == needles.id),
        "the consent events name the customer first: {audit:?}"
    );

    let erased = ok(c.profiles.erase_customer(EraseCustomerRequest {
        customer_id: w.customer_id.clone(),
    }))
    .await;
    assert!(erased.erased, "{erased:?}");
    assert!(erased.completed_at.is_some() && erased.requested_at.is_some());
    let count = |k: &str| erased.counts.get(k).copied().unwrap_or(0);
    assert_eq!(count("ingestion.transactions"), 4, "{erased:?}");
    assert_eq!(count("ingestion.events"), 1, "{erased:?}");
    assert_eq!(count("scoring.customer_scores"), 1, "{erased:?}");
    assert!(count("scoring.firings_anonymised") >= 1, "{erased:?}");
    assert_eq!(count("scoring.dead_letters"), 1, "{erased:?}");
    assert!(count("scoring.reports_anonymised") >= 1, "{erased:?}");
    assert_eq!(count("notifications.anonymised"), 3, "{erased:?}");
    assert!(
        count("notifications.integration_posts_anonymised") >= 1,
        "{erased:?}"
    );
    // The reminder, and the world's webhook if it is still being retried.
    assert!(count("notifications.queued_cancelled") >= 1, "{erased:?}");
    assert_eq!(count("profiles.customers"), 1, "{erased:?}");
    assert_eq!(count("profiles.identities"), 2, "{erased:?}");
    assert_eq!(count("profiles.children_detached"), 1, "{erased:?}");

    let after = residue::find(&config, &needles.all()).await;
    assert!(after.is_empty(), "left after the erasure: {after:?}");

    // The erasure is recorded once, without personal data.
    let events = ok(c.tenants.list_audit_events(ListAuditEventsRequest {
        target_prefix: "erasure:".into(),
        ..Default::default()
    }))
    .await
    .events;
    let own = format!("erasure:{}", erased.erasure_id);
    assert_eq!(
        events.iter().filter(|e| e.target == own).count(),
        1,
        "{events:?}"
    );
    // The consent events are kept, renamed after the erasure.
    let renamed = events
        .iter()
        .filter(|e| e.target.starts_with(&format!("{own}/consent/")))
        .count();
    assert!(renamed > 0, "{events:?}");
    assert_eq!(events.len(), 1 + renamed, "{events:?}");
    let text = format!("{events:?}");
    assert!(
        needles.all().iter().all(|n| !text.contains(n.as_str())),
        "{text}"
    );
    let recorded = events.len();

    // Again: OK, nothing erased, nothing recorded.
    let again = ok(c.profiles.erase_customer(EraseCustomerRequest {
        customer_id: w.customer_id.clone(),
    }))
    .await;
    assert!(!again.erased && again.erasure_id.is_empty(), "{again:?}");
    let events = ok(c.tenants.list_audit_events(ListAuditEventsRequest {
        target_prefix: "erasure:".into(),
        ..Default::default()
    }))
    .await
    .events;
    assert_eq!(events.len(), recorded);
    let gone = c
        .profiles
        .get_customer(GetCustomerRequest {
            customer_id: w.customer_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    // The other customers stay.
    ok(c.profiles.get_customer(GetCustomerRequest {
        customer_id: w.child_id.clone(),
    }))
    .await;

    // The ERP file replayed: its rows are duplicates, and naming the
    // person by their ERP identity does not bring the identity back.
    let replayed = ok(c.ingestion.ingest_transactions(IngestTransactionsRequest {
        transactions: w.person_transactions(),
    }))
    .await;
    assert_eq!(
        (
            replayed.accepted,
            replayed.duplicates,
            replayed.customers_created
        ),
        (0, 4, 0),
        "{replayed:?}"
    );
    assert!(replayed.rejected.is_empty(), "{replayed:?}");
    for identity in [
        w.identity.clone(),
        ExternalIdentity {
            source: "pos".into(),
            external_id: needles.pos.clone(),
        },
    ] {
        let unknown = c
            .profiles
            .lookup_customer(LookupCustomerRequest {
                identity: Some(identity),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    }
    let left = residue::find(&config, &needles.all()).await;
    assert!(
        left.is_empty(),
        "after the second erasure and the replay: {left:?}"
    );
    suite.stop().await.unwrap();
}

async fn a_service_down_makes_the_erasure_resumable(backend: Backend) {
    let config = config_with_redis(testing::config(backend).await);
    let suite = all_in_one::serving(config.clone()).await;
    let (_, key) = all_in_one::tenant(&suite, "globex").await;
    let mut c = all_in_one::clients(&suite, &key);
    let id = customer_with_a_purchase(&mut c, "D-1", "d1@example.com", "T-1").await;

    // The same stores, with notifications nowhere to be reached.
    let mut broken = config.clone();
    broken.peers.notifications_url = Some(format!("http://127.0.0.1:{}", testing::free_port()));
    let down = all_in_one::serving(broken).await;
    let mut d = all_in_one::clients(&down, &key);
    let failed = d
        .profiles
        .erase_customer(EraseCustomerRequest {
            customer_id: id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    // Not a half-done OK: the profile is still there.
    ok(c.profiles.get_customer(GetCustomerRequest {
        customer_id: id.clone(),
    }))
    .await;
    down.stop().await.unwrap();

    let erased = ok(c.profiles.erase_customer(EraseCustomerRequest {
        customer_id: id.clone(),
    }))
    .await;
    assert!(erased.erased, "{erased:?}");
    // The part done before the failure counts in the resumed erasure.
    assert_eq!(
        erased.counts.get("ingestion.transactions"),
        Some(&1),
        "{erased:?}"
    );
    assert_eq!(
        erased.counts.get("profiles.customers"),
        Some(&1),
        "{erased:?}"
    );
    let left = residue::find(&config, &[id.clone(), "d1@example.com".into()]).await;
    assert!(left.is_empty(), "{left:?}");
    suite.stop().await.unwrap();
}

rapport_kit::backend_tests!(
    erase_leaves_nothing,
    a_service_down_makes_the_erasure_resumable
);

/// The shell block of the README's GDPR section, run as written against a
/// suite: it prints what the README says it prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_erase_example_prints_what_the_readme_says() {
    let suite = all_in_one::serving(testing::config(Backend::Sqlite).await).await;
    let (_, key) = all_in_one::tenant(&suite, "acme").await;
    let (block, expected) =
        rapport_tests::http::readme_example("### Export and erasure (GDPR)", &suite.url());
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &block])
        .env("RAPPORT_API_KEY", &key)
        .output()
        .expect("bash");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
    suite.stop().await.unwrap();
}

/// The production shape: four servers, profiles reaching the others at
/// their configured URLs with its own internal credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn erasure_in_the_split_shape() {
    let suite = rapport_tests::SplitSuite::start(testing::config(Backend::Postgres).await).await;
    let (_, key) = suite.profiles.tenant("globex", "EUR").await;
    let mut c = suite.clients(&key);
    let id = customer_with_a_purchase(&mut c, "S-1", "", "ST-1").await;
    let doc = export(&mut c, &id).await;
    assert_eq!(len(&doc, &["ingestion", "transactions"]), 1, "{doc}");
    let erased = ok(c.profiles.erase_customer(EraseCustomerRequest {
        customer_id: id.clone(),
    }))
    .await;
    assert_eq!(
        erased.counts.get("ingestion.transactions"),
        Some(&1),
        "{erased:?}"
    );
    assert_eq!(
        erased.counts.get("profiles.customers"),
        Some(&1),
        "{erased:?}"
    );
    suite.stop().await;
}
