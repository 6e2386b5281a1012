use std::collections::HashMap;

use rapport_proto::v1::{InteractionChange, change_event};

use super::*;

fn row(id: i64, tenant: Uuid, change_id: &str) -> OutboxRow {
    let change = ChangeEvent {
        id: change_id.into(),
        ..Default::default()
    }
    .encode_to_vec();
    OutboxRow {
        id,
        tenant_id: tenant,
        change,
    }
}

/// An interaction carrying `bytes` bytes of properties.
fn event(id: &str, bytes: usize) -> ChangeEvent {
    let properties = HashMap::from([("note".to_owned(), "x".repeat(bytes))]);
    ChangeEvent {
        id: id.into(),
        customer_id: Uuid::new_v4().to_string(),
        change: Some(change_event::Change::Interaction(InteractionChange {
            kind: "visit".into(),
            occurred_at: None,
            properties,
        })),
    }
}

#[test]
fn groups_keep_queue_order_and_skip_garbage() {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let garbage = OutboxRow {
        id: 9,
        tenant_id: a,
        change: vec![0xff, 0xff, 0xff],
    };
    let groups = group_by_tenant(vec![
        row(1, a, "x1"),
        row(2, b, "y1"),
        garbage,
        row(3, a, "x2"),
    ]);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].0, a);
    assert_eq!(groups[0].1, [1, 3]);
    assert_eq!(
        groups[0]
            .2
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>(),
        ["x1", "x2"]
    );
    assert_eq!(groups[1].1, [2]);
}

#[test]
fn calls_stay_within_the_byte_budget_in_order() {
    // 120 events of 50 KiB: 6 MB, over what scoring decodes in one call.
    let changes: Vec<_> = (0..120)
        .map(|i| event(&format!("evt:{i}"), 50 << 10))
        .collect();
    let calls = calls(changes);
    assert!(calls.len() >= 6, "{} calls", calls.len());
    for call in &calls {
        let bytes = ApplyChangesRequest {
            changes: call.clone(),
        }
        .encoded_len();
        assert!(
            bytes <= APPLY_CHANGES_BATCH_BYTES,
            "{bytes} bytes in one call"
        );
    }
    let ids: Vec<String> = calls.into_iter().flatten().map(|c| c.id).collect();
    let expected: Vec<String> = (0..120).map(|i| format!("evt:{i}")).collect();
    assert_eq!(ids, expected);
}

#[test]
fn a_change_scoring_cannot_decode_goes_without_its_content() {
    let small = event("evt:1", 10);
    let between = event("evt:2", APPLY_CHANGES_BATCH_BYTES + 1);
    let huge = event("evt:3", APPLY_CHANGES_MAX_BYTES);
    let calls = calls(vec![small.clone(), between.clone(), huge.clone()]);
    // One over the budget goes alone, whole; one scoring could not decode
    // goes as its id and customer, for scoring to keep as a dead letter.
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0], [small]);
    assert_eq!(calls[1], [between]);
    assert_eq!(calls[2].len(), 1);
    assert_eq!(
        (calls[2][0].id.as_str(), calls[2][0].change.is_none()),
        ("evt:3", true)
    );
    assert_eq!(calls[2][0].customer_id, huge.customer_id);
}
