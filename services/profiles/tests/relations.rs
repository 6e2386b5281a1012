//! The account hierarchy and consent per channel, on both backends.

mod support;

use rapport_kit::testing::Backend;
use rapport_proto::v1::{self as pb};
use support::*;

rapport_kit::backend_tests! {
    hierarchy_lists_children_and_refuses_cycles, consent_grant_revoke_regrant,
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

async fn set_parent(c: &mut Client, id: &str, parent: &str) -> Result<pb::Customer, tonic::Status> {
    let req = pb::UpdateCustomerRequest {
        customer: Some(pb::Customer {
            id: id.into(),
            parent_id: parent.into(),
            ..Default::default()
        }),
        update_mask: mask(&["parent_id"]),
    };
    Ok(c.update_customer(req).await?.into_inner().customer.unwrap())
}

async fn hierarchy_lists_children_and_refuses_cycles(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let kind = pb::CustomerKind::Intermediary as i32;
    let parent = create(
        &mut c,
        "p",
        pb::Customer {
            kind,
            ..named("Broker")
        },
    )
    .await;
    let under = |name: &str| pb::Customer {
        parent_id: parent.id.clone(),
        ..named(name)
    };
    let a = create(&mut c, "a", under("A")).await;
    let b = create(&mut c, "b", under("B")).await;
    let grandchild = create(
        &mut c,
        "g",
        pb::Customer {
            parent_id: a.id.clone(),
            ..named("G")
        },
    )
    .await;
    create(&mut c, "loner", named("Loner")).await;

    let children = |parent_id: &str| pb::ListCustomersRequest {
        parent_id: parent_id.into(),
        ..Default::default()
    };
    let (kids, _) = list_all(&mut c, children(&parent.id)).await;
    let mut expected = vec![a.id.clone(), b.id.clone()];
    expected.sort();
    assert_eq!(
        kids.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
        expected
    );

    for (id, new_parent) in [
        (&parent.id, &grandchild.id),
        (&parent.id, &a.id),
        (&a.id, &a.id),
    ] {
        let err = set_parent(&mut c, id, new_parent).await.unwrap_err();
        assert_eq!(
            bad_fields(&err),
            ["customer.parent_id"],
            "cycle through {new_parent}"
        );
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        bad_fields(&set_parent(&mut c, &b.id, &unknown).await.unwrap_err()),
        ["customer.parent_id"]
    );
    let err = c
        .create_customer(pb::CreateCustomerRequest {
            request_id: "orphan".into(),
            customer: Some(pb::Customer {
                parent_id: unknown,
                ..named("O")
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["customer.parent_id"]);
    // Moving b under the grandchild is fine: b is not its ancestor.
    assert_eq!(
        set_parent(&mut c, &b.id, &grandchild.id)
            .await
            .unwrap()
            .parent_id,
        grandchild.id
    );

    assert!(
        c.delete_customer(pb::DeleteCustomerRequest {
            customer_id: parent.id.clone()
        })
        .await
        .unwrap()
        .into_inner()
        .deleted
    );
    let a_now = get(&mut c, &a.id).await.unwrap();
    assert_eq!(
        a_now.parent_id, "",
        "deleting a parent leaves its children without one"
    );
    assert_eq!(get(&mut c, &grandchild.id).await.unwrap().parent_id, a.id);
    let (kids, _) = list_all(&mut c, children(&parent.id)).await;
    assert!(kids.is_empty());
}

async fn consent_grant_revoke_regrant(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let made = create(&mut c, "r", named("A")).await;
    let sms = pb::Channel::Sms as i32;
    let set = |granted: bool, at: Option<i64>| {
        let req = pb::SetConsentRequest {
            customer_id: made.id.clone(),
            channel: sms,
            granted,
            at: at.map(support::at),
        };
        let mut c = c.clone();
        async move {
            c.set_consent(req)
                .await
                .unwrap()
                .into_inner()
                .consent
                .unwrap()
        }
    };
    let granted = set(true, Some(1_000)).await;
    assert!(granted.granted);
    assert_eq!(
        (granted.granted_at, granted.revoked_at),
        (Some(at(1_000)), None)
    );
    let again = set(true, Some(2_000)).await;
    assert_eq!(
        again.granted_at,
        Some(at(1_000)),
        "granting again keeps the original grant time"
    );
    let revoked = set(false, Some(3_000)).await;
    assert!(!revoked.granted);
    assert_eq!(revoked.revoked_at, Some(at(3_000)));
    assert_eq!(
        set(false, Some(4_000)).await.revoked_at,
        Some(at(3_000)),
        "revoking again changes nothing"
    );
    let regranted = set(true, Some(5_000)).await;
    assert_eq!(
        (regranted.granted_at, regranted.revoked_at),
        (Some(at(5_000)), None)
    );

    let email = pb::SetConsentRequest {
        customer_id: made.id.clone(),
        channel: pb::Channel::Email as i32,
        granted: true,
        at: None,
    };
    let now_granted = ok(c.set_consent(email)).await.consent.unwrap();
    assert!(now_granted.granted_at.is_some(), "the time defaults to now");
    let stored = get(&mut c, &made.id).await.unwrap();
    assert_eq!(stored.consents.len(), 2);
    assert_eq!(
        stored.consents.iter().find(|x| x.channel == sms),
        Some(&regranted)
    );
    let future = pb::SetConsentRequest {
        customer_id: made.id,
        channel: sms,
        granted: true,
        at: Some(at(253_370_764_800)),
    };
    assert_eq!(
        bad_fields(&c.set_consent(future).await.unwrap_err()),
        ["at"]
    );
}
