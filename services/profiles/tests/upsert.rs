//! Bulk imports through `UpsertCustomers`, on both backends.

mod support;

use std::collections::HashMap;

use rapport_kit::testing::{Backend, refused_rows};
use rapport_proto::v1::{self as pb};
use support::*;

rapport_kit::backend_tests! {
    mixed_batch_keeps_good_rows, changes_are_counted_and_stubs_enriched, batch_cycles_and_limits,
    full_batch_is_written_in_one_call,
}

fn record(external_id: &str, name: &str, parent: &str) -> pb::CustomerRecord {
    pb::CustomerRecord {
        identity: Some(ident("erp", external_id)),
        display_name: name.into(),
        parent_external_id: parent.into(),
        ..Default::default()
    }
}

async fn upsert(c: &mut Client, customers: Vec<pb::CustomerRecord>) -> pb::UpsertCustomersResponse {
    c.upsert_customers(pb::UpsertCustomersRequest { customers })
        .await
        .expect("upsert")
        .into_inner()
}

fn counts(resp: &pb::UpsertCustomersResponse) -> (u32, u32, u32) {
    (resp.created, resp.updated, resp.unchanged)
}

async fn mixed_batch_keeps_good_rows(backend: Backend) {
    let (_ts, tenant_id, mut c) = start_acme(backend).await;
    let consent = pb::Consent {
        channel: pb::Channel::Email as i32,
        granted: true,
        granted_at: Some(at(1_000)),
        revoked_at: None,
    };
    let batch = vec![
        // The parent comes later in the same batch.
        pb::CustomerRecord {
            email: "shop@a.ch".into(),
            ..record("A", "Shop A", "P")
        },
        pb::CustomerRecord {
            email: "broken".into(),
            ..record("B", "Bad email", "")
        },
        pb::CustomerRecord {
            kind: pb::CustomerKind::Intermediary as i32,
            attributes: HashMap::from([("region".into(), "eu".into())]),
            consents: vec![consent],
            ..record("P", "Parent", "")
        },
        pb::CustomerRecord {
            identity: Some(ident("erp", "")),
            ..record("", "No id", "")
        },
        record("C", "Orphan", "NOPE"),
        record("A", "Repeat of A", ""),
        record("D", "Under bad", "B"),
    ];
    let first = upsert(&mut c, batch.clone()).await;
    assert_eq!(
        refused_rows(&first.rejected),
        [
            (1, "customers[1].email"),
            (3, "customers[3].identity.external_id"),
            (4, "customers[4].parent_external_id"),
            (5, "customers[5].identity"),
            (6, "customers[6].parent_external_id"),
        ]
    );
    assert!(
        first
            .rejected
            .iter()
            .all(|r| r.code == 3 && !r.reason.is_empty())
    );
    assert_eq!(counts(&first), (2, 0, 0));
    let (a_id, p_id) = (
        identity_id(tenant_id, "erp", "A"),
        identity_id(tenant_id, "erp", "P"),
    );
    assert_eq!(
        first.customer_ids,
        [a_id.as_str(), "", p_id.as_str(), "", "", "", ""]
    );

    let a = get(&mut c, &a_id).await.unwrap();
    assert_eq!(
        (
            a.display_name.as_str(),
            a.parent_id.as_str(),
            a.email.as_str()
        ),
        ("Shop A", p_id.as_str(), "shop@a.ch")
    );
    let p = get(&mut c, &p_id).await.unwrap();
    assert_eq!(p.attributes["region"], "eu");
    assert_eq!(p.consents[0].granted_at, Some(at(1_000)));
    assert_eq!(p.identities, [ident("erp", "P")]);
    let (all, _) = list_all(&mut c, pb::ListCustomersRequest::default()).await;
    assert_eq!(all.len(), 2, "refused rows wrote nothing");

    let again = upsert(&mut c, batch).await;
    assert_eq!(
        counts(&again),
        (0, 0, 2),
        "re-sending the batch changes nothing"
    );
    assert_eq!(again.customer_ids, first.customer_ids);
    assert_eq!(refused_rows(&again.rejected), refused_rows(&first.rejected));
    assert_eq!(
        get(&mut c, &a_id).await.unwrap(),
        a,
        "not even the update time"
    );
}

async fn changes_are_counted_and_stubs_enriched(backend: Backend) {
    let (_ts, tenant_id, mut c) = start_acme(backend).await;
    let stub_req = resolve_req(&[("erp", "S")], true);
    let stub_id = ok(c.resolve_identities(stub_req)).await.results[0]
        .customer_id
        .clone();
    assert_eq!(stub_id, identity_id(tenant_id, "erp", "S"));
    let base = vec![record("X", "X", ""), record("Y", "Y", "X")];
    assert_eq!(counts(&upsert(&mut c, base).await), (2, 0, 0));

    let revoke = pb::Consent {
        channel: pb::Channel::Sms as i32,
        granted: false,
        granted_at: None,
        revoked_at: Some(at(50)),
    };
    let next = vec![
        record("X", "X renamed", ""),
        // Y moves from under X to the top level.
        record("Y", "Y", ""),
        pb::CustomerRecord {
            consents: vec![revoke],
            ..record("S", "", "")
        },
        record("Z", "Z", "S"),
    ];
    let resp = upsert(&mut c, next.clone()).await;
    assert!(resp.rejected.is_empty(), "{:?}", resp.rejected);
    assert_eq!(counts(&resp), (1, 3, 0));
    assert_eq!(
        resp.customer_ids[2], stub_id,
        "the stub is found by its identity"
    );
    let enriched = get(&mut c, &stub_id).await.unwrap();
    assert!(!enriched.stub);
    assert_eq!(enriched.consents[0].revoked_at, Some(at(50)));
    assert_eq!(
        get(&mut c, &resp.customer_ids[1]).await.unwrap().parent_id,
        ""
    );
    assert_eq!(
        get(&mut c, &resp.customer_ids[3]).await.unwrap().parent_id,
        stub_id
    );
    assert_eq!(counts(&upsert(&mut c, next).await), (0, 0, 4));

    // A record is the customer's whole state: attributes not listed go.
    let with_attrs = pb::CustomerRecord {
        attributes: HashMap::from([("tier".into(), "gold".into())]),
        ..record("X", "X renamed", "")
    };
    assert_eq!(counts(&upsert(&mut c, vec![with_attrs]).await), (0, 1, 0));
    assert_eq!(
        counts(&upsert(&mut c, vec![record("X", "X renamed", "")]).await),
        (0, 1, 0)
    );
    assert!(
        get(&mut c, &resp.customer_ids[0])
            .await
            .unwrap()
            .attributes
            .is_empty()
    );
}

async fn batch_cycles_and_limits(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let made = upsert(
        &mut c,
        vec![record("TOP", "Top", ""), record("MID", "Mid", "TOP")],
    )
    .await;
    assert_eq!(counts(&made), (2, 0, 0));
    // TOP under MID closes a loop with what is stored; a self-parent too.
    let resp = upsert(
        &mut c,
        vec![record("TOP", "Top", "MID"), record("SELF", "Self", "SELF")],
    )
    .await;
    assert_eq!(
        refused_rows(&resp.rejected),
        [
            (0, "customers[0].parent_external_id"),
            (1, "customers[1].parent_external_id")
        ]
    );
    assert_eq!(counts(&resp), (0, 0, 0));
    assert_eq!(
        get(&mut c, &made.customer_ids[0]).await.unwrap().parent_id,
        ""
    );
    // The row closing a loop through stored links is refused, the rest kept.
    let resp = upsert(
        &mut c,
        vec![record("N1", "New", "MID"), record("TOP", "Top", "N1")],
    )
    .await;
    assert_eq!(
        refused_rows(&resp.rejected),
        [(1, "customers[1].parent_external_id")]
    );
    assert_eq!(counts(&resp), (1, 0, 0));
    // A loop of new customers: refusing the closing row leaves the others
    // with a parent that will never exist, so they go too.
    let resp = upsert(
        &mut c,
        vec![
            record("L1", "", "L2"),
            record("L2", "", "L3"),
            record("L3", "", "L1"),
        ],
    )
    .await;
    assert_eq!(resp.rejected.len(), 3);
    assert!(
        resp.rejected[2].reason.contains("ancestor"),
        "{:?}",
        resp.rejected[2]
    );
    assert_eq!(counts(&resp), (0, 0, 0));
    // Swapping TOP and MID in one batch is fine.
    let resp = upsert(
        &mut c,
        vec![record("TOP", "Top", "MID"), record("MID", "Mid", "")],
    )
    .await;
    assert!(resp.rejected.is_empty());
    assert_eq!(
        get(&mut c, &made.customer_ids[0]).await.unwrap().parent_id,
        made.customer_ids[1]
    );

    let too_many: Vec<_> = (0..5001).map(|i| record(&i.to_string(), "", "")).collect();
    let err = c
        .upsert_customers(pb::UpsertCustomersRequest {
            customers: too_many,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["customers"]);
}

async fn full_batch_is_written_in_one_call(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let long_name = "n".repeat(200);
    let rows: Vec<_> = (0..5000)
        .map(|i| pb::CustomerRecord {
            attributes: HashMap::from([
                ("region".into(), format!("r{}", i % 7)),
                ("note".into(), "x".repeat(900)),
            ]),
            // Every tenth row sits under the previous row.
            ..record(
                &format!("K{i}"),
                &long_name,
                &if i % 10 == 9 {
                    format!("K{}", i - 1)
                } else {
                    String::new()
                },
            )
        })
        .collect();
    let resp = upsert(&mut c, rows.clone()).await;
    assert!(
        resp.rejected.is_empty(),
        "{:?}",
        &resp.rejected[..resp.rejected.len().min(3)]
    );
    assert_eq!(counts(&resp), (5000, 0, 0));
    let filter = pb::ListCustomersRequest {
        page_size: 1000,
        attribute_filter: HashMap::from([("region".into(), "r3".into())]),
        ..Default::default()
    };
    let (found, _) = list_all(&mut c, filter).await;
    assert_eq!(found.len(), (0..5000).filter(|i| i % 7 == 3).count());
    assert_eq!(counts(&upsert(&mut c, rows).await), (0, 0, 5000));
}
