//! RulesService editing on both backends: versions, publish, roll back,
//! authors, idempotency of every mutating RPC, compile errors positioned in
//! the condition, action checks, and tenant isolation of every RPC.

mod support;

use rapport_kit::testing::{Backend, ok};
use rapport_proto::v1::{
    CreateRuleRequest, DryRunRuleRequest, GetRuleRequest, GetRuleStatsRequest, ListFiringsRequest,
    ListRuleVersionsRequest, ListRulesRequest, PublishRuleRequest, RollbackRuleRequest,
    RuleDefinition, RuleTrigger, SetRuleEnabledRequest, UpdateRuleRequest, ValidateRuleRequest,
};
use support::{
    bad_fields, reason,
    rules::{RulesClient, definition, start, webhook},
};
use tonic::Code;

rapport_kit::backend_tests! {
    versions_publish_and_roll_back, compile_errors_name_line_and_column, actions_are_checked,
    tenants_cannot_see_or_change_each_others_rules, rule_stats_windows_are_bounded,
}

/// CreateRule for a score-change rule `name` on `condition`: the rule and
/// whether it is new.
async fn create(
    client: &mut RulesClient,
    request_id: &str,
    author: &str,
    name: &str,
    condition: &str,
) -> Result<(rapport_proto::v1::Rule, bool), tonic::Status> {
    let d = definition(name, RuleTrigger::ScoreChange, condition);
    create_from(client, request_id, author, d).await
}

/// CreateRule for `d`: the rule and whether it is new.
async fn create_from(
    client: &mut RulesClient,
    request_id: &str,
    author: &str,
    d: RuleDefinition,
) -> Result<(rapport_proto::v1::Rule, bool), tonic::Status> {
    let request = CreateRuleRequest {
        request_id: request_id.into(),
        author: author.into(),
        definition: Some(d),
    };
    let r = client.create_rule(request).await?.into_inner();
    Ok((r.rule.unwrap(), r.created))
}

/// A rule's latest and published versions and whether it is enabled.
async fn versions_and_enabled(client: &mut RulesClient, rule_id: String) -> (u32, u32, bool) {
    let got = ok(client.get_rule(GetRuleRequest { rule_id })).await;
    let rule = got.rule.unwrap();
    (rule.latest_version, rule.published_version, rule.enabled)
}

async fn versions_publish_and_roll_back(backend: Backend) {
    let h = start(backend).await;
    let (_, mut c) = h.rules_tenant("acme").await;

    let (rule, created) = create(&mut c, "r1", "ana", "big", "score.net_spend > 100")
        .await
        .unwrap();
    assert!(created);
    assert_eq!((rule.latest_version, rule.published_version), (1, 0));
    assert!(rule.enabled);
    let v1 = rule.latest.clone().unwrap();
    assert_eq!(v1.author, "ana");
    assert!(v1.published_at.is_none());
    // The same request again: the same rule, nothing new.
    let (again, created) = create(&mut c, "r1", "ana", "big", "score.net_spend > 100")
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, rule.id);
    // A second rule may not take the name.
    let taken = create(&mut c, "r2", "ana", "big", "true")
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert_eq!(reason(&taken), "RULE_NAME_TAKEN");

    let update = |request_id: &str, expected: u32, condition: &str| UpdateRuleRequest {
        rule_id: rule.id.clone(),
        request_id: request_id.into(),
        author: "ben".into(),
        expected_version: expected,
        definition: Some(definition("big", RuleTrigger::ScoreChange, condition)),
    };
    let r = ok(c.update_rule(update("u1", 1, "score.net_spend > 200"))).await;
    assert!(r.created);
    assert_eq!(r.rule.as_ref().unwrap().latest_version, 2);
    let r = ok(c.update_rule(update("u1", 1, "score.net_spend > 200"))).await;
    assert!(!r.created, "replayed update");
    assert_eq!(r.rule.as_ref().unwrap().latest_version, 2);
    // A request id names one change: reused for another rule, it is refused.
    let (other, _) = create(&mut c, "r9", "ana", "other", "true").await.unwrap();
    let mut reused = update("u1", 1, "true");
    reused.rule_id = other.id.clone();
    assert_eq!(
        bad_fields(&c.update_rule(reused).await.unwrap_err()),
        ["request_id"]
    );
    let stale = c
        .update_rule(update("u2", 1, "score.net_spend > 300"))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);
    assert_eq!(reason(&stale), "RULE_VERSION_STALE");

    let publish = PublishRuleRequest {
        rule_id: rule.id.clone(),
        version: 2,
    };
    let p1 = ok(c.publish_rule(publish.clone())).await.rule.unwrap();
    assert_eq!(p1.published_version, 2);
    let p2 = ok(c.publish_rule(publish)).await.rule.unwrap();
    assert_eq!(p1, p2, "publishing twice changes nothing");
    let missing = c
        .publish_rule(PublishRuleRequest {
            rule_id: rule.id.clone(),
            version: 9,
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    let rollback = RollbackRuleRequest {
        rule_id: rule.id.clone(),
        request_id: "b1".into(),
        author: "carl".into(),
        to_version: 1,
    };
    let r = ok(c.rollback_rule(rollback.clone())).await;
    assert!(r.created);
    let rolled = r.rule.unwrap();
    assert_eq!((rolled.latest_version, rolled.published_version), (3, 3));
    let v3 = rolled.latest.unwrap();
    assert_eq!(v3.definition, v1.definition, "version 3 copies version 1");
    assert_eq!(v3.author, "carl");
    let r = ok(c.rollback_rule(rollback)).await;
    assert!(!r.created);
    assert_eq!(r.rule.unwrap().latest_version, 3);

    let versions = ok(c.list_rule_versions(ListRuleVersionsRequest {
        rule_id: rule.id.clone(),
        page_size: 2,
        ..Default::default()
    }))
    .await;
    let numbers: Vec<_> = versions
        .versions
        .iter()
        .map(|v| (v.version, v.author.as_str()))
        .collect();
    assert_eq!(numbers, [(3, "carl"), (2, "ben")]);
    assert!(versions.versions.iter().all(|v| v.published_at.is_some()));
    let rest = ok(c.list_rule_versions(ListRuleVersionsRequest {
        rule_id: rule.id.clone(),
        page_size: 2,
        page_token: versions.next_page_token,
    }))
    .await;
    assert_eq!(rest.versions.len(), 1);
    assert_eq!(
        (rest.versions[0].version, rest.versions[0].published_at),
        (1, None)
    );
    assert!(rest.next_page_token.is_empty());

    let paused = SetRuleEnabledRequest {
        rule_id: rule.id.clone(),
        enabled: false,
    };
    let a = ok(c.set_rule_enabled(paused.clone())).await.rule.unwrap();
    let b = ok(c.set_rule_enabled(paused)).await.rule.unwrap();
    assert!(!a.enabled);
    assert_eq!(a, b);

    create(&mut c, "r3", "ana", "another", "true")
        .await
        .unwrap();
    // One rule a page.
    let mut page_token = String::new();
    for name in ["another", "big"] {
        let request = ListRulesRequest {
            page_size: 1,
            page_token,
        };
        let page = ok(c.list_rules(request)).await;
        assert_eq!(page.rules[0].name, name);
        page_token = page.next_page_token;
    }
    assert_eq!(
        versions_and_enabled(&mut c, rule.id.clone()).await,
        (3, 3, false)
    );
    h.ts.stop().await;
}

async fn compile_errors_name_line_and_column(backend: Backend) {
    let h = start(backend).await;
    let (_, mut c) = h.rules_tenant("acme").await;
    let source = "score.monthly_profit > 500 &&\n  score.no_such_field > 1";
    let e = create(&mut c, "r1", "ana", "typo", source)
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&e), ["definition.condition"]);
    assert!(e.message().contains("line 2, column 9"), "{}", e.message());
    let listed = ok(c.list_rules(ListRulesRequest::default())).await;
    assert!(listed.rules.is_empty(), "nothing saved");

    let v = ok(c.validate_rule(ValidateRuleRequest {
        definition: Some(definition("typo", RuleTrigger::ScoreChange, source)),
    }))
    .await;
    assert!(!v.ok);
    assert_eq!(v.diagnostics.len(), 1);
    let d = &v.diagnostics[0];
    assert_eq!(
        (d.field.as_str(), d.line, d.column),
        ("definition.condition", 2, 9)
    );
    assert!(d.message.contains("no_such_field"), "{}", d.message);

    let good = "score.monthly_profit > 500 && score.purchases_per_month > 5 \
                && change.frequency_drop > 0.3";
    let v = ok(c.validate_rule(ValidateRuleRequest {
        definition: Some(definition("good", RuleTrigger::ScoreChange, good)),
    }))
    .await;
    assert!(v.ok, "{:?}", v.diagnostics);
    assert_eq!(
        v.references,
        [
            "change.frequency_drop",
            "score.monthly_profit",
            "score.purchases_per_month"
        ]
    );
    // A condition must be a bool.
    let e = create(&mut c, "r2", "ana", "number", "score.net_spend + 1.0")
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&e), ["definition.condition"]);
    h.ts.stop().await;
}

async fn actions_are_checked(backend: Backend) {
    use rapport_proto::v1::{
        Channel, NotifyAction, Purpose, RuleAction, WebhookAction, rule_action,
    };
    use support::rules::{email_notice, notify_action, set_tier};
    let h = start(backend).await;
    let (_, mut c) = h.rules_tenant("acme").await;
    let mut d = definition("bad actions", RuleTrigger::Event, "true");
    d.holdout_percent = 60;
    d.actions = vec![
        // Rules post to registered endpoints only, never to a URL.
        RuleAction {
            action: Some(rule_action::Action::Webhook(WebhookAction {
                url: "https://crm.example.com/hook".into(),
                endpoint: String::new(),
            })),
        },
        notify_action(NotifyAction {
            channel: Channel::Unspecified as i32,
            template: String::new(),
            ..Default::default()
        }),
        set_tier("diamond"),
        RuleAction { action: None },
        // A delay past the calendar's end would overflow time arithmetic.
        notify_action(NotifyAction {
            delay: Some(prost_types::Duration {
                seconds: 9_000_000_000_000_000,
                nanos: 0,
            }),
            ..email_notice("t", Purpose::Marketing)
        }),
        webhook("CRM hook"),
    ];
    let e = create_from(&mut c, "r1", "ana", d).await.unwrap_err();
    let mut fields = bad_fields(&e);
    fields.sort();
    assert_eq!(
        fields,
        [
            "definition.actions[0].webhook.url",
            "definition.actions[1].notify.channel",
            "definition.actions[1].notify.template",
            "definition.actions[2].set_tier.tier",
            "definition.actions[3]",
            "definition.actions[4].notify.delay",
            "definition.actions[5].webhook.endpoint",
            "definition.event_kinds",
            "definition.holdout_percent",
        ]
    );
    // The tenant's own tiers are accepted.
    let mut d = definition("gold", RuleTrigger::ScoreChange, "true");
    d.actions = vec![set_tier("gold")];
    create_from(&mut c, "r2", "ana", d).await.unwrap();
    h.ts.stop().await;
}

fn not_found<T>(r: Result<tonic::Response<T>, tonic::Status>, what: &str) {
    match r {
        Err(s) => assert_eq!(s.code(), Code::NotFound, "{what}: {s:?}"),
        Ok(_) => panic!("{what}: another tenant's rule was reachable"),
    }
}

async fn tenants_cannot_see_or_change_each_others_rules(backend: Backend) {
    let h = start(backend).await;
    let (_, key_a) = h.ts.tenant("acme", "EUR").await;
    let (_, key_b) = h.ts.tenant("other", "EUR").await;
    let mut a = h.rules(&key_a);
    let mut b = h.rules(&key_b);
    let (rule, _) = create(&mut a, "r1", "ana", "big", "score.net_spend > 100")
        .await
        .unwrap();
    let id = rule.id.clone();
    // Every RPC that names A's rule finds nothing from B's side.
    let update = UpdateRuleRequest {
        rule_id: id.clone(),
        request_id: "x1".into(),
        author: "eve".into(),
        expected_version: 1,
        definition: Some(definition("big", RuleTrigger::ScoreChange, "true")),
    };
    not_found(b.update_rule(update).await, "update");
    let get = GetRuleRequest {
        rule_id: id.clone(),
    };
    not_found(b.get_rule(get).await, "get");
    let publish = PublishRuleRequest {
        rule_id: id.clone(),
        version: 1,
    };
    not_found(b.publish_rule(publish).await, "publish");
    let rollback = RollbackRuleRequest {
        rule_id: id.clone(),
        request_id: "x2".into(),
        author: "eve".into(),
        to_version: 1,
    };
    not_found(b.rollback_rule(rollback).await, "rollback");
    let pause = SetRuleEnabledRequest {
        rule_id: id.clone(),
        enabled: false,
    };
    not_found(b.set_rule_enabled(pause).await, "set enabled");
    let versions = ListRuleVersionsRequest {
        rule_id: id.clone(),
        ..Default::default()
    };
    not_found(b.list_rule_versions(versions).await, "versions");
    let dry_run = DryRunRuleRequest {
        rule_id: id.clone(),
        ..Default::default()
    };
    not_found(b.dry_run_rule(dry_run).await, "dry run");
    let stats = GetRuleStatsRequest {
        rule_id: id.clone(),
        window_days: 30,
    };
    not_found(b.get_rule_stats(stats).await, "stats");
    let listed = ok(b.list_rules(ListRulesRequest::default())).await;
    assert!(listed.rules.is_empty());
    let firings = ok(b.list_firings(ListFiringsRequest {
        rule_id: id.clone(),
        ..Default::default()
    }))
    .await;
    assert!(firings.firings.is_empty());
    // B's request id and name are B's own: a new rule, not A's.
    let (own, created) = create(&mut b, "r1", "eve", "big", "true").await.unwrap();
    assert!(created);
    assert_ne!(own.id, id);
    // A's rule is untouched.
    assert_eq!(versions_and_enabled(&mut a, id).await, (1, 0, true));
    h.ts.stop().await;
}

/// GetRuleStats looks back `window_days` from now: past a year the request
/// is refused naming the field, so no window reaches date arithmetic that
/// could overflow; the largest allowed one answers.
async fn rule_stats_windows_are_bounded(backend: Backend) {
    let h = start(backend).await;
    let (_, mut c) = h.rules_tenant("acme").await;
    let (rule, _) = create(&mut c, "r1", "ana", "big", "true").await.unwrap();
    let stats = |window_days| GetRuleStatsRequest {
        rule_id: rule.id.clone(),
        window_days,
    };
    for window in [366, u32::MAX] {
        let e = c.get_rule_stats(stats(window)).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{window}: {e:?}");
        assert_eq!(bad_fields(&e), ["window_days"], "{window}");
    }
    let year = ok(c.get_rule_stats(stats(365))).await;
    assert_eq!(year.firings, 0);
    h.ts.stop().await;
}
