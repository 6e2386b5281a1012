//! Customers: create, read, update, delete and list, on both backends.

mod support;

use std::collections::HashMap;

use rapport_kit::testing::Backend;
use rapport_proto::v1::{self as pb};
use support::*;
use tonic::Code;

rapport_kit::backend_tests! {
    crud_round_trip, create_is_idempotent_by_request_id,
    bad_input_names_the_field_and_writes_nothing, update_applies_only_the_mask,
    attribute_filter_pages_through_matches,
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

async fn crud_round_trip(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let input = pb::Customer {
        display_name: "Ana Souza".into(),
        kind: pb::CustomerKind::Person as i32,
        email: "ana@example.com".into(),
        phone: "+41 44-123 45 67".into(),
        attributes: HashMap::from([
            ("region".into(), "eu".into()),
            ("industry".into(), "retail".into()),
        ]),
        identities: vec![ident("erp", "C-1"), ident("web", "ana")],
        consents: vec![pb::Consent {
            channel: pb::Channel::Email as i32,
            granted: true,
            granted_at: Some(at(1_700_000_000)),
            revoked_at: None,
        }],
        ..Default::default()
    };
    let created = create(&mut c, "r-1", input).await;
    assert_eq!(
        created.phone, "+41441234567",
        "spaces and dashes are stripped"
    );
    assert_eq!(created.identities.len(), 2);
    assert_eq!(created.consents[0].granted_at, Some(at(1_700_000_000)));
    assert!(!created.stub);
    assert_eq!(get(&mut c, &created.id).await.unwrap(), created);

    let update = pb::UpdateCustomerRequest {
        customer: Some(pb::Customer {
            id: created.id.clone(),
            display_name: "Ana S.".into(),
            ..Default::default()
        }),
        update_mask: mask(&["display_name"]),
    };
    let updated = update_ok(&mut c, update).await;
    assert_eq!(updated.display_name, "Ana S.");
    assert_eq!(updated.email, "ana@example.com");
    assert_eq!(get(&mut c, &created.id).await.unwrap(), updated);

    let delete = pb::DeleteCustomerRequest {
        customer_id: created.id.clone(),
    };
    assert!(
        c.delete_customer(delete.clone())
            .await
            .unwrap()
            .into_inner()
            .deleted
    );
    assert_eq!(
        get(&mut c, &created.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(
        !c.delete_customer(delete)
            .await
            .unwrap()
            .into_inner()
            .deleted,
        "second delete finds nothing"
    );
    let lookup = c
        .lookup_customer(pb::LookupCustomerRequest {
            identity: Some(ident("erp", "C-1")),
        })
        .await;
    assert_eq!(
        lookup.unwrap_err().code(),
        Code::NotFound,
        "identities go with the customer"
    );
    // The identity is free again.
    create(&mut c, "r-2", with_identity("Other", "erp", "C-1")).await;
}

async fn create_is_idempotent_by_request_id(backend: Backend) {
    let (_ts, tenant_id, mut c) = start_acme(backend).await;
    let first = create(&mut c, "import-7", named("Acme AG")).await;
    assert_eq!(
        first.id,
        uuid::Uuid::new_v5(&tenant_id, b"import-7").to_string()
    );
    let again = ok(c.create_customer(pb::CreateCustomerRequest {
        request_id: "import-7".into(),
        customer: Some(named("Changed")),
    }))
    .await;
    assert!(!again.created);
    assert_eq!(
        again.customer.unwrap(),
        first,
        "the stored customer is returned unchanged"
    );
    let (all, _) = list_all(&mut c, pb::ListCustomersRequest::default()).await;
    assert_eq!(all.len(), 1);
}

async fn bad_input_names_the_field_and_writes_nothing(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let bad = pb::Customer {
        email: "not-an-email".into(),
        phone: "12345".into(),
        kind: 42,
        attributes: HashMap::from([("Bad Key".into(), "v".into())]),
        identities: vec![ident("erp", "")],
        ..named("X")
    };
    let request = pb::CreateCustomerRequest {
        request_id: "r".into(),
        customer: Some(bad),
    };
    let err = c.create_customer(request).await.unwrap_err();
    let mut fields = bad_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        [
            "customer.attributes[\"Bad Key\"]",
            "customer.email",
            "customer.identities[0].external_id",
            "customer.kind",
            "customer.phone"
        ]
    );
    let missing_id = pb::CreateCustomerRequest {
        request_id: String::new(),
        customer: Some(named("X")),
    };
    assert_eq!(
        bad_fields(&c.create_customer(missing_id).await.unwrap_err()),
        ["request_id"]
    );
    let (all, _) = list_all(&mut c, pb::ListCustomersRequest::default()).await;
    assert!(all.is_empty(), "nothing half-written");

    let made = create(&mut c, "ok", named("Fine")).await;
    let update = |paths: &[&str]| pb::UpdateCustomerRequest {
        customer: Some(pb::Customer {
            id: made.id.clone(),
            ..named("New")
        }),
        update_mask: mask(paths),
    };
    assert_eq!(
        bad_fields(&c.update_customer(update(&[])).await.unwrap_err()),
        ["update_mask"]
    );
    assert_eq!(
        bad_fields(&c.update_customer(update(&["id"])).await.unwrap_err()),
        ["update_mask"]
    );
    let consent = pb::SetConsentRequest {
        customer_id: made.id.clone(),
        channel: 0,
        granted: true,
        at: None,
    };
    assert_eq!(
        bad_fields(&c.set_consent(consent).await.unwrap_err()),
        ["channel"]
    );
    assert_eq!(
        bad_fields(&get(&mut c, "nope").await.unwrap_err()),
        ["customer_id"]
    );
    assert_eq!(get(&mut c, &made.id).await.unwrap().display_name, "Fine");
}

async fn update_applies_only_the_mask(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let attrs = HashMap::from([
        ("region".into(), "eu".into()),
        ("tier".into(), "gold".into()),
    ]);
    let made = create(
        &mut c,
        "r",
        pb::Customer {
            email: "a@b.ch".into(),
            attributes: attrs,
            ..named("A")
        },
    )
    .await;
    let patch = pb::Customer {
        id: made.id.clone(),
        display_name: "ignored".into(),
        email: "new@b.ch".into(),
        attributes: HashMap::from([("region".into(), "us".into())]),
        ..Default::default()
    };
    let req = pb::UpdateCustomerRequest {
        customer: Some(patch),
        update_mask: mask(&["email", "attributes"]),
    };
    let updated = update_ok(&mut c, req.clone()).await;
    assert_eq!(updated.display_name, "A");
    assert_eq!(updated.email, "new@b.ch");
    assert_eq!(
        updated.attributes,
        HashMap::from([("region".into(), "us".into())]),
        "attributes are replaced"
    );
    // The same update again changes nothing, not even the update time.
    let again = update_ok(&mut c, req).await;
    assert_eq!(again, updated);
    assert_eq!(get(&mut c, &made.id).await.unwrap(), updated);
}

async fn attribute_filter_pages_through_matches(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let mut eu_gold = Vec::new();
    let mut eu = Vec::new();
    for i in 0..9 {
        let mut attrs = HashMap::new();
        attrs.insert(
            "region".to_owned(),
            if i % 3 == 2 { "us" } else { "eu" }.to_owned(),
        );
        if i % 2 == 0 {
            attrs.insert("tier".to_owned(), "gold".to_owned());
        }
        let made = create(
            &mut c,
            &format!("r{i}"),
            pb::Customer {
                attributes: attrs.clone(),
                ..named("C")
            },
        )
        .await;
        if attrs["region"] == "eu" {
            eu.push(made.id.clone());
            if attrs.contains_key("tier") {
                eu_gold.push(made.id);
            }
        }
    }
    eu.sort();
    eu_gold.sort();
    let filter = |pairs: &[(&str, &str)], page_size| pb::ListCustomersRequest {
        page_size,
        attribute_filter: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let ids = |list: Vec<pb::Customer>| list.into_iter().map(|c| c.id).collect::<Vec<_>>();

    let (found, pages) = list_all(&mut c, filter(&[("region", "eu")], 2)).await;
    assert_eq!(ids(found), eu, "every match once, in id order");
    assert_eq!(pages, 3);
    let (found, _) = list_all(&mut c, filter(&[("region", "eu"), ("tier", "gold")], 1)).await;
    assert_eq!(ids(found), eu_gold, "all pairs must match");
    let (found, _) = list_all(&mut c, filter(&[("region", "apac")], 0)).await;
    assert!(found.is_empty());
    let (all, pages) = list_all(&mut c, filter(&[], 4)).await;
    assert_eq!((all.len(), pages), (9, 3));

    let bad_token = pb::ListCustomersRequest {
        page_token: "zz".into(),
        ..Default::default()
    };
    assert_eq!(
        bad_fields(&c.list_customers(bad_token).await.unwrap_err()),
        ["page_token"]
    );
    let bad_key = filter(&[("Region", "eu")], 0);
    assert_eq!(
        bad_fields(&c.list_customers(bad_key).await.unwrap_err()),
        ["attribute_filter[\"Region\"]"]
    );
}
