//! The account hierarchy is at most 16 levels deep, whichever RPC builds it,
//! on both backends.

mod support;

use rapport_kit::testing::{Backend, refused_rows};
use rapport_proto::v1::{self as pb};
use support::*;

rapport_kit::backend_tests! {
    creates_and_moves_stop_at_sixteen_levels, a_batch_stops_at_sixteen_levels,
}

const MAX_DEPTH: usize = 16;

fn under(name: &str, parent: &pb::Customer) -> pb::Customer {
    pb::Customer {
        parent_id: parent.id.clone(),
        ..named(name)
    }
}

fn move_under(id: &str, parent_id: &str) -> pb::UpdateCustomerRequest {
    pb::UpdateCustomerRequest {
        customer: Some(pb::Customer {
            id: id.into(),
            parent_id: parent_id.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["parent_id".into()],
        }),
    }
}

async fn creates_and_moves_stop_at_sixteen_levels(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    // levels[i] sits at level i + 1.
    let mut levels = vec![create(&mut c, "l1", named("L1")).await];
    for level in 2..=MAX_DEPTH {
        let parent = levels.last().unwrap().clone();
        let name = format!("L{level}");
        levels.push(create(&mut c, &name, under(&name, &parent)).await);
    }
    let bottom = levels[MAX_DEPTH - 1].clone();
    let err = c
        .create_customer(pb::CreateCustomerRequest {
            request_id: "l17".into(),
            customer: Some(under("L17", &bottom)),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["customer.parent_id"], "{err:?}");
    assert!(err.message().contains("16 levels"), "{err:?}");

    // A customer heading two levels fits under level 14, not under level 15.
    let head = create(&mut c, "head", named("Head")).await;
    create(&mut c, "tail", under("Tail", &head)).await;
    let err = c
        .update_customer(move_under(&head.id, &levels[MAX_DEPTH - 2].id))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["customer.parent_id"], "{err:?}");
    assert_eq!(get(&mut c, &head.id).await.unwrap().parent_id, "");
    let moved = update_ok(&mut c, move_under(&head.id, &levels[MAX_DEPTH - 3].id)).await;
    assert_eq!(moved.parent_id, levels[MAX_DEPTH - 3].id);
}

fn record(external_id: &str, parent: &str) -> pb::CustomerRecord {
    pb::CustomerRecord {
        identity: Some(ident("erp", external_id)),
        display_name: external_id.into(),
        parent_external_id: parent.into(),
        ..Default::default()
    }
}

async fn a_batch_stops_at_sixteen_levels(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    // R0 at the root, each next record under the one before: 18 levels.
    let batch: Vec<pb::CustomerRecord> = (0..MAX_DEPTH + 2)
        .map(|i| {
            let parent = i
                .checked_sub(1)
                .map(|p| format!("R{p}"))
                .unwrap_or_default();
            record(&format!("R{i}"), &parent)
        })
        .collect();
    let resp = ok(c.upsert_customers(pb::UpsertCustomersRequest { customers: batch })).await;
    assert_eq!(
        refused_rows(&resp.rejected),
        [
            (16, "customers[16].parent_external_id"),
            (17, "customers[17].parent_external_id")
        ]
    );
    assert!(resp.rejected[0].reason.contains("16 levels"), "{resp:?}");
    assert_eq!(resp.created, MAX_DEPTH as u32);

    // Stored chains count too: a new record under the bottom one is refused.
    let next = ok(c.upsert_customers(pb::UpsertCustomersRequest {
        customers: vec![record("R16", "R15"), record("S", "R14")],
    }))
    .await;
    assert_eq!(next.rejected.len(), 1, "{next:?}");
    assert_eq!(next.rejected[0].field, "customers[0].parent_external_id");
    assert_eq!(next.created, 1);
}
