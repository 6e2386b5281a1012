//! Tenant isolation, walked over every RPC: tenant B makes data of every
//! kind, then tenant A sends every RPC the request B would send for it (B's
//! customer, rule, template and notification ids, B's identities, B's page
//! tokens). Each answer must be NOT_FOUND or PERMISSION_DENIED, or an answer
//! holding none of B's ids and stored text; and B's data must be as it was.
//! The RPCs come from the released descriptors, so a new one fails this test
//! until it has a request in `seeds.rs`. Internal-only RPCs refuse tenant
//! keys even for the tenant's own data.

use std::time::Duration;

use prost::Message;
use rapport::client::Clients;
use rapport_kit::testing::{self, Backend, ok};
use rapport_proto::v1::{
    BatchGetScoresResponse, GetContactPolicyRequest, GetCustomerRequest, GetNotificationRequest,
    GetPointsBalanceRequest, GetPointsBalanceResponse, GetPointsProgrammeRequest, GetRuleRequest,
    GetScoreRequest, GetScoreResponse, GetScoringSettingsRequest, GetTemplateRequest,
    IngestEventsResponse, IngestTransactionsResponse, ListApiKeysRequest, ListDeadLettersRequest,
    ListPointsLedgerResponse, ListScoreChangeSubscriptionsRequest, ListTransactionsRequest,
    ResolveIdentitiesResponse, tenants_service_client::TenantsServiceClient,
};
use rapport_tests::{
    all_in_one,
    rpc::{Caller, methods_deletions_last},
    seeds::seed,
    world::World,
};
use tonic::Code;

type TenantsClient = TenantsServiceClient<rapport::client::Authed>;

/// RPCs only Rapport's own services may call.
const INTERNAL_ONLY: &[&str] = &[
    "ScoringService/ApplyChanges",
    "IngestionService/ExportCustomerActivity",
    "IngestionService/EraseCustomerActivity",
    "ScoringService/ExportCustomerScores",
    "ScoringService/EraseCustomerScores",
    "NotificationsService/ExportCustomerNotifications",
    "NotificationsService/EraseCustomerNotifications",
];

/// Requests that refer to B's ids inside the record they create: the field
/// is refused as unknown, as for an id that never existed.
const UNKNOWN_REFERENCES: &[(&str, &str)] =
    &[("ProfilesService/CreateCustomer", "customer.parent_id")];

/// Everything B can read of its data, as text, for a before/after check.
async fn snapshot(b: &mut Clients, keys: &mut TenantsClient, w: &World) -> Vec<String> {
    let customer = |id: &str| GetCustomerRequest {
        customer_id: id.into(),
    };
    let (template, channel, locale) = (w.template.clone(), 1, "en".to_owned());
    let dead = ok(b
        .scoring
        .list_dead_letters(ListDeadLettersRequest::default()))
    .await;
    let dead: Vec<String> = dead.dead_letters.into_iter().map(|d| d.change_id).collect();
    assert_eq!(dead, [format!("{}-change", w.prefix)], "B's dead letter");
    let listed = ok(keys.list_api_keys(ListApiKeysRequest::default())).await;
    let revoked: Vec<(String, bool)> = listed
        .keys
        .into_iter()
        .map(|k| (k.id, k.revoked_at.is_some()))
        .collect();
    vec![
        format!("{revoked:?}"),
        format!(
            "{:?}",
            ok(b.profiles.get_customer(customer(&w.customer_id))).await
        ),
        format!(
            "{:?}",
            ok(b.profiles.get_customer(customer(&w.child_id))).await
        ),
        format!(
            "{:?}",
            ok(b.profiles.get_customer(customer(&w.parent_id))).await
        ),
        format!(
            "{:?}",
            ok(b.rules.get_rule(GetRuleRequest {
                rule_id: w.rule_id.clone()
            }))
            .await
        ),
        format!(
            "{:?}",
            ok(b.notifications.get_template(GetTemplateRequest {
                name: template,
                channel,
                locale
            }))
            .await
        ),
        format!(
            "{:?}",
            ok(b.ingestion.list_transactions(ListTransactionsRequest {
                customer_id: w.customer_id.clone(),
                ..Default::default()
            }))
            .await
        ),
        format!(
            "{:?}",
            ok(b.scoring.get_scoring_settings(GetScoringSettingsRequest {})).await
        ),
        format!(
            "{:?}",
            ok(b.score_changes
                .list_score_change_subscriptions(ListScoreChangeSubscriptionsRequest {}))
            .await
        ),
        format!(
            "{:?}",
            ok(b.notifications
                .get_contact_policy(GetContactPolicyRequest {}))
            .await
        ),
        format!(
            "{:?}",
            ok(b.scoring.get_score(GetScoreRequest {
                customer_id: w.customer_id.clone()
            }))
            .await
            .score
            .map(|s| (s.purchase_count, s.refund_count, s.net_spend))
        ),
        format!(
            "{:?}",
            ok(b.loyalty.get_points_balance(GetPointsBalanceRequest {
                customer_id: w.customer_id.clone()
            }))
            .await
        ),
        format!(
            "{:?}",
            ok(b.loyalty.get_points_programme(GetPointsProgrammeRequest {})).await
        ),
        ok(b.notifications.get_notification(GetNotificationRequest {
            notification_id: w.notification_id.clone(),
        }))
        .await
        .notification
        .map(|n| n.id)
        .unwrap_or_default(),
    ]
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// What is wrong with A's OK answer to `method` sent B's `request`: B's ids
/// or text it did not send, or, where an answer repeats the ids asked about,
/// B's records behind them.
fn leak(method: &str, request: &[u8], answer: &[u8], b: &World) -> Option<String> {
    let private = b.private();
    let shown: Vec<&String> = private
        .iter()
        .filter(|p| holds(answer, p) && !holds(request, p))
        .collect();
    if !shown.is_empty() {
        return Some(format!("answer holds B's {shown:?}"));
    }
    let found = match method {
        "ScoringService/GetScore" => {
            format!(
                "{:?}",
                GetScoreResponse::decode(answer)
                    .ok()?
                    .score
                    .into_iter()
                    .collect::<Vec<_>>()
            )
        }
        "ScoringService/BatchGetScores" => {
            let a = BatchGetScoresResponse::decode(answer).ok()?;
            format!(
                "{:?}",
                a.scores.iter().map(|s| &s.customer_id).collect::<Vec<_>>()
            )
        }
        "ProfilesService/ResolveIdentities" => {
            format!(
                "{:?}",
                ResolveIdentitiesResponse::decode(answer)
                    .ok()?
                    .known_customer_ids
            )
        }
        "IngestionService/IngestTransactions" | "IngestionService/StreamTransactions" => {
            let a = IngestTransactionsResponse::decode(answer).ok()?;
            format!("{:?}", (1..=a.accepted).collect::<Vec<_>>())
        }
        // A's answer for B's customer: a balance or ledger of B's.
        "LoyaltyService/GetPointsBalance" => {
            let b = GetPointsBalanceResponse::decode(answer).ok()?.balance?;
            format!(
                "{:?}",
                [b.balance, b.earned]
                    .iter()
                    .filter(|n| **n != 0)
                    .collect::<Vec<_>>()
            )
        }
        "LoyaltyService/ListPointsLedger" => {
            let a = ListPointsLedgerResponse::decode(answer).ok()?;
            format!(
                "{:?}",
                a.entries.iter().map(|e| &e.reason).collect::<Vec<_>>()
            )
        }
        "IngestionService/IngestEvents" => {
            let a = IngestEventsResponse::decode(answer).ok()?;
            format!("{:?}", (1..=a.accepted).collect::<Vec<_>>())
        }
        _ => return None,
    };
    (found != "[]").then(|| format!("B's records were used: {found}"))
}

fn unknown_reference(method: &str, status: &tonic::Status) -> bool {
    status.code() == Code::InvalidArgument
        && UNKNOWN_REFERENCES
            .iter()
            .any(|(m, field)| *m == method && testing::bad_fields(status) == [*field])
}

async fn every_rpc_keeps_tenants_apart(backend: Backend) {
    walk(testing::config(backend).await, &format!("{backend:?}")).await;
}

/// The same walk with every statement going through a real PgBouncer in
/// transaction mode (`docs/scaling.md`): every RPC's SQL runs there, the
/// migrations too, and with no direct connection the relay and the key
/// cache poll instead of listening.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_keeps_tenants_apart_through_pgbouncer() {
    let mut config = testing::config(Backend::Postgres).await;
    let bouncer = rapport_tests::through_pgbouncer(&mut config, false).await;
    walk(config, "Postgres through PgBouncer").await;
    rapport_tests::assert_every_schema_pooled(&bouncer);
}

async fn walk(config: rapport_kit::config::Config, backend: &str) {
    let suite = all_in_one::serving(config).await;
    let (_, key_a) = all_in_one::tenant(&suite, "acme").await;
    let (tenant_b, key_b) = all_in_one::tenant(&suite, "globex").await;
    let url = suite.url();
    let (mut a, mut b) = (
        all_in_one::clients(&suite, &key_a),
        all_in_one::clients(&suite, &key_b),
    );
    // A has data too, so that its lists are not empty by accident.
    let own = World::create(&mut a, &url, &key_a, "acme").await;
    let theirs = World::create(&mut b, &url, &key_b, "globex").await;
    theirs
        .dead_letter(&url, &suite.app.internal, tenant_b.id)
        .await;
    let channel = rapport_kit::internal::lazy_channel(&url, Duration::from_secs(30)).unwrap();
    let auth = rapport_kit::internal::BearerAuth::new(&key_b).unwrap();
    let mut keys_b = TenantsServiceClient::with_interceptor(channel, auth);
    let before = snapshot(&mut b, &mut keys_b, &theirs).await;

    let caller = Caller::new(&url, &key_a, Duration::from_secs(60));
    let mut wrong = Vec::new();
    let all = methods_deletions_last();
    for method in &all {
        let request = seed(&method.name, &theirs)
            .unwrap_or_else(|| panic!("{} has no request in seeds.rs", method.name));
        match caller.call(method, vec![request.clone().into()]).await {
            Err(s) if matches!(s.code(), Code::NotFound | Code::PermissionDenied) => {}
            Err(s) if unknown_reference(&method.name, &s) => {}
            // Tenant-wide RPCs (no id of B's in the request) may find A's
            // own data unfit, e.g. too few customers for a model.
            Err(s)
                if s.code() == Code::FailedPrecondition
                    && leak(&method.name, &request, s.message().as_bytes(), &theirs).is_none()
                    && !theirs.private().iter().any(|p| holds(&request, p)) => {}
            Err(s) => wrong.push(format!("{}: {:?} {}", method.name, s.code(), s.message())),
            Ok(answer) => {
                if let Some(why) = leak(&method.name, &request, &answer, &theirs) {
                    wrong.push(format!("{}: {why}", method.name));
                }
            }
        }
    }
    for name in INTERNAL_ONLY {
        let method = all.iter().find(|m| m.name == *name).expect("internal RPC");
        let request = seed(name, &own).unwrap();
        let answer = caller.call(method, vec![request.into()]).await;
        let code = answer.err().map(|s| s.code());
        if code != Some(Code::PermissionDenied) {
            wrong.push(format!("{name} with A's own key and data: {code:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    println!("ISOLATION rpcs={} backend={backend}", all.len());
    let after = snapshot(&mut b, &mut keys_b, &theirs).await;
    assert_eq!(after, before, "B's data changed");
    suite.stop().await.unwrap();
}

rapport_kit::backend_tests!(every_rpc_keeps_tenants_apart);
