//! Tenants never see or change each other's customers, and nobody gets in
//! without credentials, on both backends.

mod support;

use std::collections::HashMap;

use rapport_kit::{internal::BearerAuth, testing::Backend};
use rapport_proto::v1::{self as pb, profiles_service_client::ProfilesServiceClient};
use support::*;
use tonic::Code;

rapport_kit::backend_tests! {
    tenant_isolation_on_every_rpc, calls_without_credentials_are_refused,
}

async fn tenant_isolation_on_every_rpc(backend: Backend) {
    let ts = start(backend).await;
    let (_, mut a) = tenant(&ts, "alpha").await;
    let (b_id, mut b) = tenant(&ts, "beta").await;
    let parent = create(&mut a, "p", named("Parent")).await;
    let input = pb::Customer {
        parent_id: parent.id.clone(),
        identities: vec![ident("erp", "C-1")],
        attributes: HashMap::from([("region".into(), "eu".into())]),
        ..named("Secret")
    };
    let secret = create(&mut a, "s", input).await;
    let consent = |id: &str| pb::SetConsentRequest {
        customer_id: id.into(),
        channel: pb::Channel::Email as i32,
        granted: true,
        at: None,
    };
    a.set_consent(consent(&secret.id)).await.unwrap();
    let secret = get(&mut a, &secret.id).await.unwrap();

    // Reads.
    assert_eq!(
        get(&mut b, &secret.id).await.unwrap_err().code(),
        Code::NotFound
    );
    let lookup = pb::LookupCustomerRequest {
        identity: Some(ident("erp", "C-1")),
    };
    assert_eq!(
        b.lookup_customer(lookup.clone()).await.unwrap_err().code(),
        Code::NotFound
    );
    for req in [
        pb::ListCustomersRequest::default(),
        pb::ListCustomersRequest {
            parent_id: parent.id.clone(),
            ..Default::default()
        },
        pb::ListCustomersRequest {
            attribute_filter: secret.attributes.clone(),
            ..Default::default()
        },
    ] {
        assert!(
            b.list_customers(req)
                .await
                .unwrap()
                .into_inner()
                .customers
                .is_empty()
        );
    }
    let peek_req = resolve_req(&[("erp", "C-1")], false);
    let peek = resolve(&mut b, peek_req).await;
    assert_eq!(peek[0].customer_id, "");
    let confirm = pb::ResolveIdentitiesRequest {
        customer_ids: vec![secret.id.clone()],
        ..Default::default()
    };
    let known = ok(b.resolve_identities(confirm)).await.known_customer_ids;
    assert!(
        known.is_empty(),
        "another tenant's customer is not confirmed"
    );

    // Writes.
    let update = rename(&secret.id, "Hacked");
    assert_eq!(
        b.update_customer(update).await.unwrap_err().code(),
        Code::NotFound
    );
    let add = pb::AddIdentityRequest {
        customer_id: secret.id.clone(),
        identity: Some(ident("web", "b")),
    };
    assert_eq!(
        b.add_identity(add).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        b.set_consent(consent(&secret.id)).await.unwrap_err().code(),
        Code::NotFound
    );
    let delete = pb::DeleteCustomerRequest {
        customer_id: secret.id.clone(),
    };
    assert!(
        !b.delete_customer(delete)
            .await
            .unwrap()
            .into_inner()
            .deleted
    );
    let under = pb::CreateCustomerRequest {
        request_id: "x".into(),
        customer: Some(pb::Customer {
            parent_id: parent.id.clone(),
            ..named("Child")
        }),
    };
    assert_eq!(
        bad_fields(&b.create_customer(under).await.unwrap_err()),
        ["customer.parent_id"]
    );

    // The same request id, identity and import in B make B's own customers.
    let own = create(&mut b, "s", with_identity("Mine", "erp", "C-1")).await;
    assert_ne!(own.id, secret.id);
    assert_eq!(
        b.lookup_customer(lookup)
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap()
            .id,
        own.id
    );
    let import = vec![
        pb::CustomerRecord {
            identity: Some(ident("erp", "C-1")),
            display_name: "Mine too".into(),
            ..Default::default()
        },
        // A's identity names no parent in B.
        pb::CustomerRecord {
            identity: Some(ident("web", "z")),
            parent_external_id: "P-A".into(),
            ..Default::default()
        },
    ];
    a.upsert_customers(pb::UpsertCustomersRequest {
        customers: vec![pb::CustomerRecord {
            identity: Some(ident("web", "P-A")),
            ..Default::default()
        }],
    })
    .await
    .unwrap();
    let resp = ok(b.upsert_customers(pb::UpsertCustomersRequest { customers: import })).await;
    assert_eq!((resp.created, resp.updated), (0, 1));
    assert_eq!(resp.customer_ids[0], own.id);
    assert_eq!(resp.rejected[0].field, "customers[1].parent_external_id");
    let stubs = resolve_req(&[("web", "P-A")], true);
    let made = resolve(&mut b, stubs).await;
    assert!(made[0].created, "B's resolver makes B's own stub");
    assert_eq!(made[0].customer_id, identity_id(b_id, "web", "P-A"));

    // A sees exactly what it had.
    assert_eq!(get(&mut a, &secret.id).await.unwrap(), secret);
    let (a_all, _) = list_all(&mut a, pb::ListCustomersRequest::default()).await;
    assert_eq!(a_all.len(), 3);
    let (b_all, _) = list_all(&mut b, pb::ListCustomersRequest::default()).await;
    assert_eq!(b_all.len(), 2);
}

async fn calls_without_credentials_are_refused(backend: Backend) {
    let ts = start(backend).await;
    let (_, mut a) = tenant(&ts, "alpha").await;
    let made = create(&mut a, "r", named("A")).await;
    let mut anonymous = ProfilesServiceClient::new(ts.channel());
    let err = anonymous
        .get_customer(pb::GetCustomerRequest {
            customer_id: made.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = anonymous
        .list_customers(pb::ListCustomersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let mut forged = ProfilesServiceClient::with_interceptor(
        ts.channel(),
        BearerAuth::new("rpk_forged").unwrap(),
    );
    let err = forged
        .create_customer(pb::CreateCustomerRequest {
            request_id: "x".into(),
            customer: Some(named("X")),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let (all, _) = list_all(&mut a, pb::ListCustomersRequest::default()).await;
    assert_eq!(all.len(), 1);
}
