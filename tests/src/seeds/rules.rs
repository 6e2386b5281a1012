//! Requests of the rules service: a rule's versions, publishing, dry runs
//! and firings.

use prost::Message;
use rapport_proto::v1::*;

use crate::world::World;

fn definition(w: &World) -> RuleDefinition {
    RuleDefinition {
        name: format!("{}-rule", w.prefix),
        condition: "score.net_spend > 2.0".into(),
        trigger: RuleTrigger::ScoreChange as i32,
        actions: vec![RuleAction {
            action: Some(rule_action::Action::Tag(TagAction { tag: "big".into() })),
        }],
        ..Default::default()
    }
}

/// The request of a `RulesService` method.
pub(super) fn seed(method: &str, w: &World) -> Option<Vec<u8>> {
    let rule_id = w.rule_id.clone();
    let bytes = match method {
        "RulesService/CreateRule" => CreateRuleRequest {
            request_id: format!("{}-rule-2", w.prefix),
            author: "maria@example.com".into(),
            definition: Some(RuleDefinition {
                name: format!("{}-rule-2", w.prefix),
                ..definition(w)
            }),
        }
        .encode_to_vec(),
        "RulesService/UpdateRule" => UpdateRuleRequest {
            rule_id,
            request_id: format!("{}-update", w.prefix),
            author: "maria@example.com".into(),
            expected_version: 1,
            definition: Some(definition(w)),
        }
        .encode_to_vec(),
        "RulesService/PublishRule" => PublishRuleRequest {
            rule_id,
            version: 1,
        }
        .encode_to_vec(),
        "RulesService/RollbackRule" => RollbackRuleRequest {
            rule_id,
            request_id: format!("{}-rollback", w.prefix),
            author: "maria@example.com".into(),
            to_version: 1,
        }
        .encode_to_vec(),
        "RulesService/SetRuleEnabled" => SetRuleEnabledRequest {
            rule_id,
            enabled: false,
        }
        .encode_to_vec(),
        "RulesService/GetRule" => GetRuleRequest { rule_id }.encode_to_vec(),
        "RulesService/ListRules" => ListRulesRequest {
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "RulesService/ListRuleVersions" => ListRuleVersionsRequest {
            rule_id,
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "RulesService/ValidateRule" => ValidateRuleRequest {
            definition: Some(definition(w)),
        }
        .encode_to_vec(),
        "RulesService/DryRunRule" => DryRunRuleRequest {
            definition: None,
            rule_id,
            version: 1,
            page_size: 5,
        }
        .encode_to_vec(),
        "RulesService/ListFirings" => ListFiringsRequest {
            rule_id,
            customer_id: w.customer_id.clone(),
            page_size: 5,
            page_token: String::new(),
        }
        .encode_to_vec(),
        "RulesService/GetRuleStats" => GetRuleStatsRequest {
            rule_id,
            window_days: 30,
        }
        .encode_to_vec(),
        _ => return None,
    };
    Some(bytes)
}
