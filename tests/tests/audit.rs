//! The audit trail: one key changes a setting, a rule, a template, consent
//! and keys; the trail lists each change once (idempotent repeats add
//! nothing), newest first, with that key as the actor, the RPC, the target
//! and a summary holding no personal data; another tenant sees none of it;
//! the table refuses updates and deletes.

use prost_types::FieldMask;
use rapport::client::Clients;
use rapport_kit::{
    on_pool,
    testing::{self, Backend, ok},
};
use rapport_proto::v1::*;
use rapport_tests::all_in_one;

const EMAIL: &str = "ann.audit@example.com";
const PHONE: &str = "+4915112345678";
const NAME: &str = "Ann Audit";
const ENDPOINT_SECRET: &str = "0123456789abcdef0123456789abcdef-sealed";
const HOOK: &str = "http://127.0.0.1:9/hooks/T0/token-in-the-path?k=v";

async fn events(c: &mut Clients, req: ListAuditEventsRequest) -> Vec<AuditEvent> {
    ok(c.tenants.list_audit_events(req)).await.events
}

fn method(e: &AuditEvent) -> &str {
    e.rpc.rsplit('/').next().unwrap()
}

fn summary(e: &AuditEvent) -> serde_json::Value {
    serde_json::from_str(&e.summary).expect("a JSON summary")
}

/// Every change one key makes, each twice where a repeat changes nothing.
async fn make_changes(a: &mut Clients) -> [String; 4] {
    let settings = || UpdateScoringSettingsRequest {
        settings: Some(ScoringSettings {
            annual_discount_rate: 0.12,
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["annual_discount_rate".into()],
        }),
    };
    assert!(
        ok(a.scoring.update_scoring_settings(settings()))
            .await
            .changed
    );
    assert!(
        !ok(a.scoring.update_scoring_settings(settings()))
            .await
            .changed
    );

    let rule = ok(a.rules.create_rule(CreateRuleRequest {
        request_id: "audit-rule".into(),
        author: "maria@example.com".into(),
        definition: Some(RuleDefinition {
            name: "big-spenders".into(),
            condition: "score.net_spend > 2.0".into(),
            trigger: RuleTrigger::ScoreChange as i32,
            actions: vec![RuleAction {
                action: Some(rule_action::Action::Tag(TagAction { tag: "big".into() })),
            }],
            ..Default::default()
        }),
    }))
    .await
    .rule
    .unwrap();
    let publish = || PublishRuleRequest {
        rule_id: rule.id.clone(),
        version: 1,
    };
    ok(a.rules.publish_rule(publish())).await;
    ok(a.rules.publish_rule(publish())).await;
    let disable = || SetRuleEnabledRequest {
        rule_id: rule.id.clone(),
        enabled: false,
    };
    ok(a.rules.set_rule_enabled(disable())).await;
    ok(a.rules.set_rule_enabled(disable())).await;

    let template = || PutTemplateRequest {
        template: Some(Template {
            name: "welcome".into(),
            channel: Channel::Email as i32,
            locale: "en".into(),
            subject: "Hello {{customer.display_name}}".into(),
            body: "Welcome".into(),
            ..Default::default()
        }),
    };
    assert!(ok(a.notifications.put_template(template())).await.created);
    assert!(!ok(a.notifications.put_template(template())).await.created);

    let policy = || UpdateContactPolicyRequest {
        policy: Some(ContactPolicy {
            max_messages: 5,
            window_hours: 48,
            cool_down_hours: 2,
            quiet_start_hour: 21,
            quiet_end_hour: 7,
        }),
    };
    ok(a.notifications.update_contact_policy(policy())).await;
    ok(a.notifications.update_contact_policy(policy())).await;
    ok(a.notifications
        .rotate_webhook_secret(RotateWebhookSecretRequest {}))
    .await;
    let endpoint = |url: &str| PutIntegrationEndpointRequest {
        endpoint: Some(IntegrationEndpoint {
            name: "crm".into(),
            url: url.into(),
            description: "the CRM".into(),
            ..Default::default()
        }),
        signing_secret: ENDPOINT_SECRET.into(),
    };
    ok(a.notifications.put_integration_endpoint(endpoint(HOOK))).await;
    let same = PutIntegrationEndpointRequest {
        signing_secret: String::new(),
        ..endpoint(HOOK)
    };
    ok(a.notifications.put_integration_endpoint(same)).await;

    let customer = ok(a.profiles.create_customer(CreateCustomerRequest {
        request_id: "audit-customer".into(),
        customer: Some(Customer {
            display_name: NAME.into(),
            kind: CustomerKind::Person as i32,
            email: EMAIL.into(),
            phone: PHONE.into(),
            ..Default::default()
        }),
    }))
    .await
    .customer
    .unwrap();
    let consent = |granted| SetConsentRequest {
        customer_id: customer.id.clone(),
        channel: Channel::Email as i32,
        granted,
        at: None,
    };
    ok(a.profiles.set_consent(consent(true))).await;
    ok(a.profiles.set_consent(consent(true))).await;
    ok(a.profiles.set_consent(consent(false))).await;
    let upsert = || UpsertCustomersRequest {
        customers: vec![CustomerRecord {
            identity: Some(ExternalIdentity {
                source: "erp".into(),
                external_id: "K-1".into(),
            }),
            display_name: NAME.into(),
            kind: CustomerKind::Person as i32,
            phone: PHONE.into(),
            consents: vec![Consent {
                channel: Channel::Sms as i32,
                granted: true,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let upserted = ok(a.profiles.upsert_customers(upsert())).await;
    assert_eq!(upserted.created, 1);
    assert_eq!(ok(a.profiles.upsert_customers(upsert())).await.unchanged, 1);
    let imported = upserted.customer_ids[0].clone();

    let create_key = || CreateApiKeyRequest {
        request_id: "audit-key".into(),
        label: "ci".into(),
    };
    let key = ok(a.tenants.create_api_key(create_key()))
        .await
        .key
        .unwrap();
    assert!(!ok(a.tenants.create_api_key(create_key())).await.created);
    let revoke = || RevokeApiKeyRequest {
        key_id: key.id.clone(),
    };
    ok(a.tenants.revoke_api_key(revoke())).await;
    ok(a.tenants.revoke_api_key(revoke())).await;
    [rule.id, customer.id, imported, key.id]
}

async fn one_key_s_changes_are_listed_once_each_newest_first(backend: Backend) {
    let suite = all_in_one::serving(testing::config(backend).await).await;
    let (acme, key_a) = all_in_one::tenant(&suite, "acme").await;
    let (_, key_b) = all_in_one::tenant(&suite, "globex").await;
    let (mut a, mut b) = (
        all_in_one::clients(&suite, &key_a),
        all_in_one::clients(&suite, &key_b),
    );
    let keys = ok(a.tenants.list_api_keys(ListApiKeysRequest::default())).await;
    let actor = format!("api_key:{}", keys.keys[0].id);

    let [rule, customer, imported, key] = make_changes(&mut a).await;

    let mut listed = events(&mut a, ListAuditEventsRequest::default()).await;
    listed.reverse();
    let seen: Vec<(&str, String)> = listed
        .iter()
        .map(|e| (method(e), e.target.clone()))
        .collect();
    let consent = format!("customer:{customer}/consent/email");
    assert_eq!(
        seen,
        [
            ("UpdateScoringSettings", "settings".to_owned()),
            ("CreateRule", format!("rule:{rule}")),
            ("PublishRule", format!("rule:{rule}")),
            ("SetRuleEnabled", format!("rule:{rule}")),
            ("PutTemplate", "template:welcome/email/en".to_owned()),
            ("UpdateContactPolicy", "contact_policy".to_owned()),
            ("RotateWebhookSecret", "webhook_secret".to_owned()),
            ("PutIntegrationEndpoint", "endpoint:crm".to_owned()),
            ("SetConsent", consent.clone()),
            ("SetConsent", consent.clone()),
            (
                "UpsertCustomers",
                format!("customer:{imported}/consent/sms")
            ),
            ("CreateApiKey", format!("api_key:{key}")),
            ("RevokeApiKey", format!("api_key:{key}")),
        ],
        "each change once, idempotent repeats adding nothing"
    );
    for e in &listed {
        assert_eq!(e.actor, actor, "{e:?}");
        assert!(e.rpc.starts_with("/rapport.v1."), "{e:?}");
        assert!(e.at.is_some() && !e.id.is_empty());
        for personal in [
            EMAIL,
            PHONE,
            NAME,
            "maria@example.com",
            ENDPOINT_SECRET,
            "token-in-the-path",
            "whsec_",
        ] {
            assert!(!e.summary.contains(personal), "{personal} in {e:?}");
        }
    }
    let mut s: Vec<serde_json::Value> = listed.iter().map(summary).collect();
    assert_eq!(s[0]["after"]["annualDiscountRate"], 0.12, "{}", s[0]);
    assert_eq!(s[0]["before"]["annualDiscountRate"], 0.1, "{}", s[0]);
    assert_eq!(s[2]["before"]["published_version"], 0);
    assert_eq!(s[2]["after"]["published_version"], 1);
    assert_eq!(s[3]["after"]["enabled"], false);
    assert_eq!(s[4]["after"]["version"], 1);
    let (policy, rotated, endpoint) = (s.remove(5), s.remove(5), s.remove(5));
    assert_eq!(policy["before"]["maxMessages"], 3, "{policy}");
    assert_eq!(policy["after"]["maxMessages"], 5, "{policy}");
    assert_eq!(rotated, serde_json::json!({"secret": "rotated"}));
    assert_eq!(
        endpoint["after"]["host"], "http://127.0.0.1:9",
        "{endpoint}"
    );
    assert_eq!(
        s[5],
        serde_json::json!({"before": {"granted": null}, "after": {"granted": true}})
    );
    assert_eq!(s[6]["before"]["granted"], true);
    assert_eq!(s[6]["after"]["granted"], false);
    assert_eq!(s[7]["before"]["granted"], serde_json::Value::Null);
    assert_eq!(s[7]["after"]["granted"], true);
    assert_eq!(s[8]["created"]["key_id"], key.as_str());
    assert_eq!(s[8]["created"]["label"], "ci");
    assert_eq!(s[9]["after"]["revoked"], true);

    // Filters and pages.
    let by_rpc = |rpc: &str| ListAuditEventsRequest {
        rpc: rpc.into(),
        ..Default::default()
    };
    assert_eq!(events(&mut a, by_rpc("SetConsent")).await.len(), 2);
    let full = by_rpc("/rapport.v1.RulesService/PublishRule");
    assert_eq!(events(&mut a, full).await.len(), 1);
    assert_eq!(
        events(&mut a, by_rpc("Rule")).await.len(),
        0,
        "whole names only"
    );
    let rules = ListAuditEventsRequest {
        target_prefix: "rule:".into(),
        ..Default::default()
    };
    assert_eq!(events(&mut a, rules).await.len(), 3);
    let mine = ListAuditEventsRequest {
        actor: actor.clone(),
        until: listed[0].at,
        ..Default::default()
    };
    assert!(
        events(&mut a, mine).await.is_empty(),
        "nothing before the first"
    );
    let mut paged = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = ok(a.tenants.list_audit_events(ListAuditEventsRequest {
            page_size: 4,
            page_token,
            ..Default::default()
        }))
        .await;
        paged.extend(page.events);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    paged.reverse();
    assert_eq!(paged, listed, "pages walk the same events");

    // Another tenant sees none of it, whatever it asks.
    assert!(
        events(&mut b, ListAuditEventsRequest::default())
            .await
            .is_empty()
    );
    assert!(events(&mut b, by_rpc("SetConsent")).await.is_empty());

    // Append-only, whoever asks the database; the one rewrite allowed (an
    // erasure renaming a customer's targets after itself) changes nothing
    // else and names nothing but an erasure.
    let db = suite.app.auth.tenants().db().clone();
    for sql in [
        "UPDATE audit_events SET summary = '{}'",
        "DELETE FROM audit_events",
        "UPDATE audit_events SET target = 'erasure:x/' || target WHERE target LIKE 'rule:%'",
        "UPDATE audit_events SET target = 'customer:someone-else/consent/email' \
         WHERE target LIKE 'customer:%'",
        "UPDATE audit_events SET target = 'erasure:x/consent/email', summary = '{}' \
         WHERE target LIKE 'customer:%'",
        "UPDATE audit_events SET target = 'erasure:' || substr(target, 10, 36) || '/other' \
         WHERE target LIKE 'customer:%'",
        "UPDATE audit_events SET target = 'erasure:x/' || substr(target, 47) \
         WHERE target LIKE 'customer:%'",
    ] {
        let refused: Result<_, sqlx::Error> = on_pool!(&db, pool => {
            sqlx::query(sql).execute(pool).await.map(|_| ())
        });
        assert!(refused.is_err(), "{sql} was allowed");
    }
    // The command line walks the same trail.
    let list = rapport::audit::AuditCommand::List {
        target: "rule:".into(),
        rpc: String::new(),
        actor: actor.clone(),
        limit: 2,
    };
    rapport::audit::run(&mut a, list)
        .await
        .expect("rapport audit list");

    let after = events(&mut a, ListAuditEventsRequest::default()).await;
    assert_eq!(after.len(), listed.len());
    assert_eq!(acme.name, "acme");
    suite.stop().await.unwrap();
}

rapport_kit::backend_tests!(one_key_s_changes_are_listed_once_each_newest_first);
