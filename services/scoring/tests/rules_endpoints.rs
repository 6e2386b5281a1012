//! Rules post only to integration endpoints the tenant registered, looked up
//! in the real notifications service: a save naming another is refused with
//! a field violation and nothing kept, a publish (or roll back) of a version
//! whose endpoint was deleted since is FAILED_PRECONDITION, and versions
//! saved with a bare URL before endpoints existed publish as before.

mod support;

use rapport_kit::testing::{Backend, ok, violations};
use rapport_proto::v1::{
    DeleteIntegrationEndpointRequest, GetRuleRequest, ListRulesRequest, PublishRuleRequest,
    RollbackRuleRequest, Rule, RuleDefinition, RuleTrigger, UpdateRuleRequest, ValidateRuleRequest,
    rule_action,
};
use support::{
    reason,
    rules::{NotifyClient, RulesClient, definition, start, tag, webhook},
};
use tonic::Code;

rapport_kit::backend_tests! {
    endpoints_are_checked_at_save_and_at_publish,
}

const HOOK: &str = "http://127.0.0.1:9/hook";

/// A rule posting twice to "crm", with a tag between.
fn to_crm() -> RuleDefinition {
    let mut d = definition("crm sync", RuleTrigger::ScoreChange, "true");
    d.actions = vec![webhook("crm"), tag("synced"), webhook("crm")];
    d
}

async fn create(
    c: &mut RulesClient,
    request_id: &str,
    author: &str,
    d: RuleDefinition,
) -> Result<Rule, tonic::Status> {
    let request = rapport_proto::v1::CreateRuleRequest {
        request_id: request_id.into(),
        author: author.into(),
        definition: Some(d),
    };
    Ok(c.create_rule(request).await?.into_inner().rule.unwrap())
}

async fn publish(c: &mut RulesClient, rule: &Rule, version: u32) -> Result<Rule, tonic::Status> {
    let request = PublishRuleRequest {
        rule_id: rule.id.clone(),
        version,
    };
    Ok(c.publish_rule(request).await?.into_inner().rule.unwrap())
}

async fn rollback(
    c: &mut RulesClient,
    rule: &Rule,
    request_id: &str,
) -> Result<Rule, tonic::Status> {
    let request = RollbackRuleRequest {
        rule_id: rule.id.clone(),
        request_id: request_id.into(),
        author: "ana".into(),
        to_version: 1,
    };
    Ok(c.rollback_rule(request).await?.into_inner().rule.unwrap())
}

/// The rule's (latest, published) versions.
async fn versions(c: &mut RulesClient, rule: &Rule) -> (u32, u32) {
    let got = ok(c.get_rule(GetRuleRequest {
        rule_id: rule.id.clone(),
    }))
    .await;
    let r = got.rule.unwrap();
    (r.latest_version, r.published_version)
}

async fn delete_crm(notify: &mut NotifyClient) {
    let request = DeleteIntegrationEndpointRequest { name: "crm".into() };
    assert!(
        ok(notify.delete_integration_endpoint(request))
            .await
            .deleted
    );
}

/// Publishing is refused naming the deleted endpoint.
fn endpoint_gone(refused: &tonic::Status) {
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(reason(refused), "INTEGRATION_ENDPOINT_NOT_FOUND");
    assert!(refused.message().contains("\"crm\""), "{refused:?}");
}

async fn endpoints_are_checked_at_save_and_at_publish(backend: Backend) {
    let h = start(backend).await;
    let (_, key) = h.ts.tenant("acme", "EUR").await;
    let mut c = h.rules(&key);
    let mut notify = h.notifications(&key);

    // Not registered: refused with the request's other violations, once per
    // action naming it; nothing is saved.
    let refused = create(&mut c, "r1", "", to_crm()).await.unwrap_err();
    let found = violations(&refused);
    let fields: Vec<_> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "author",
            "definition.actions[0].webhook.endpoint",
            "definition.actions[2].webhook.endpoint"
        ]
    );
    let why = &found[1].1;
    assert!(
        why.contains("no integration endpoint named \"crm\" is registered")
            && why.contains("PutIntegrationEndpoint"),
        "{why}"
    );
    let refused = create(&mut c, "r1", "ana", to_crm()).await.unwrap_err();
    assert_eq!(violations(&refused).len(), 2, "{refused:?}");
    let listed = ok(c.list_rules(ListRulesRequest::default())).await;
    assert!(listed.rules.is_empty(), "{:?}", listed.rules);
    // ValidateRule says the same.
    let validate = || ValidateRuleRequest {
        definition: Some(to_crm()),
    };
    let checked = ok(c.validate_rule(validate())).await;
    assert!(!checked.ok);
    let fields: Vec<_> = checked
        .diagnostics
        .iter()
        .map(|d| d.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "definition.actions[0].webhook.endpoint",
            "definition.actions[2].webhook.endpoint"
        ]
    );

    // Registered, it saves; another tenant's endpoint of the name is not
    // this one's.
    h.register_endpoint(&key, "crm", HOOK).await;
    assert!(ok(c.validate_rule(validate())).await.ok);
    let rule = create(&mut c, "r1", "ana", to_crm()).await.unwrap();
    assert_eq!((rule.latest_version, rule.published_version), (1, 0));
    let (_, mut other) = h.rules_tenant("globex").await;
    let refused = create(&mut other, "r1", "ana", to_crm()).await.unwrap_err();
    assert_eq!(violations(&refused).len(), 2, "{refused:?}");

    // Deleted between save and publish: not published.
    delete_crm(&mut notify).await;
    endpoint_gone(&publish(&mut c, &rule, 1).await.unwrap_err());
    assert_eq!(versions(&mut c, &rule).await, (1, 0));
    h.register_endpoint(&key, "crm", HOOK).await;
    assert_eq!(
        publish(&mut c, &rule, 1).await.unwrap().published_version,
        1
    );
    // Publishing the published version again changes nothing and is not
    // refused (its firings record their posts as failed meanwhile).
    delete_crm(&mut notify).await;
    assert_eq!(
        publish(&mut c, &rule, 1).await.unwrap().published_version,
        1
    );

    // A version without the endpoint saves and publishes; rolling back to
    // one with it is a publish, refused the same way, nothing written.
    let mut tagged = to_crm();
    tagged.actions = vec![tag("synced")];
    let update = UpdateRuleRequest {
        rule_id: rule.id.clone(),
        request_id: "u1".into(),
        author: "ana".into(),
        expected_version: 1,
        definition: Some(tagged),
    };
    ok(c.update_rule(update)).await;
    publish(&mut c, &rule, 2).await.unwrap();
    endpoint_gone(&rollback(&mut c, &rule, "b1").await.unwrap_err());
    assert_eq!(versions(&mut c, &rule).await, (2, 2));
    h.register_endpoint(&key, "crm", HOOK).await;
    let rolled = rollback(&mut c, &rule, "b1").await.unwrap();
    assert_eq!((rolled.latest_version, rolled.published_version), (3, 3));
    h.ts.stop().await;
}

/// A version saved with a bare URL before endpoints existed (written
/// directly, as saves now refuse it) publishes and rolls back with no
/// endpoint registered: it posts as a customer-facing webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_posting_to_a_url_still_publish_and_roll_back() {
    use sqlx::Connection;
    let config = rapport_kit::testing::config(Backend::Postgres).await;
    let url = config.database_url.as_ref().unwrap().expose().to_owned();
    let h = support::start_with(config).await;
    let (_, mut c) = h.rules_tenant("acme").await;
    let mut d = to_crm();
    d.actions = vec![tag("synced")];
    let rule = create(&mut c, "r1", "ana", d.clone()).await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let stored: String = sqlx::query_scalar(
        "SELECT definition FROM scoring.rule_versions WHERE rule_id = $1 AND version = 1",
    )
    .bind(&rule.id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let mut legacy: serde_json::Value = serde_json::from_str(&stored).unwrap();
    legacy["actions"] =
        serde_json::json!([{ "webhook": { "url": "https://hooks.example.com/h" } }]);
    sqlx::query("UPDATE scoring.rule_versions SET definition = $1 WHERE rule_id = $2")
        .bind(legacy.to_string())
        .bind(&rule.id)
        .execute(&mut conn)
        .await
        .unwrap();
    let posts_to_url = |r: &Rule| {
        let def = r.latest.as_ref().unwrap().definition.as_ref().unwrap();
        matches!(
            &def.actions[0].action,
            Some(rule_action::Action::Webhook(w)) if w.url == "https://hooks.example.com/h"
        )
    };

    let published = publish(&mut c, &rule, 1).await.unwrap();
    assert_eq!(published.published_version, 1);
    assert!(posts_to_url(&published), "{published:?}");
    let update = UpdateRuleRequest {
        rule_id: rule.id.clone(),
        request_id: "u1".into(),
        author: "ana".into(),
        expected_version: 1,
        definition: Some(d),
    };
    ok(c.update_rule(update)).await;
    publish(&mut c, &rule, 2).await.unwrap();
    let rolled = rollback(&mut c, &rule, "b1").await.unwrap();
    assert_eq!((rolled.latest_version, rolled.published_version), (3, 3));
    assert!(posts_to_url(&rolled), "{rolled:?}");
    h.ts.stop().await;
}
