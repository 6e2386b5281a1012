//! External identities: attach, look up, conflicts, and bulk resolution with
//! stub customers, on both backends.

mod support;

use std::collections::HashSet;

use rapport_kit::testing::{Backend, reason};
use rapport_proto::v1::{self as pb, profiles_service_client::ProfilesServiceClient};
use support::*;
use tonic::Code;

rapport_kit::backend_tests! {
    identities_attach_and_look_up, identity_taken_by_another_customer, resolve_creates_stubs_once,
    concurrent_resolvers_converge, customer_ids_are_confirmed_in_the_same_call,
}

async fn customer_ids_are_confirmed_in_the_same_call(backend: Backend) {
    let (ts, _, mut c) = start_acme(backend).await;
    let known = create(&mut c, "k", named("Known")).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let req = pb::ResolveIdentitiesRequest {
        identities: vec![ident("erp", "C-9")],
        create_missing: true,
        customer_ids: vec![known.id.clone(), unknown.clone(), known.id.clone()],
    };
    let res = ok(c.resolve_identities(req)).await;
    assert_eq!(res.results.len(), 1);
    assert!(res.results[0].created);
    assert_eq!(res.known_customer_ids, std::slice::from_ref(&known.id));
    let bad = pb::ResolveIdentitiesRequest {
        customer_ids: vec![known.id.clone(), "not-an-id".into()],
        ..Default::default()
    };
    let status = c.resolve_identities(bad).await.unwrap_err();
    assert_eq!(bad_fields(&status), ["customer_ids[1]"]);
    ts.stop().await;
}

async fn lookup(
    c: &mut Client,
    source: &str,
    external_id: &str,
) -> Result<pb::Customer, tonic::Status> {
    let req = pb::LookupCustomerRequest {
        identity: Some(ident(source, external_id)),
    };
    Ok(c.lookup_customer(req).await?.into_inner().customer.unwrap())
}

async fn add(
    c: &mut Client,
    id: &str,
    source: &str,
    external_id: &str,
) -> Result<pb::Customer, tonic::Status> {
    let req = pb::AddIdentityRequest {
        customer_id: id.into(),
        identity: Some(ident(source, external_id)),
    };
    Ok(c.add_identity(req).await?.into_inner().customer.unwrap())
}

async fn identities_attach_and_look_up(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let made = create(&mut c, "r", with_identity("A", "erp", "C-1")).await;
    let with_web = add(&mut c, &made.id, "web", "ana").await.unwrap();
    assert_eq!(
        with_web.identities,
        [ident("erp", "C-1"), ident("web", "ana")]
    );
    // Attaching an identity the customer already has changes nothing.
    let again = add(&mut c, &made.id, "web", "ana").await.unwrap();
    assert_eq!(again, with_web);

    for (source, external_id) in [("erp", "C-1"), ("web", "ana")] {
        assert_eq!(
            lookup(&mut c, source, external_id).await.unwrap().id,
            made.id
        );
    }
    let err = lookup(&mut c, "erp", "C-2").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(
        bad_fields(&lookup(&mut c, "", "x").await.unwrap_err()),
        ["identity.source"]
    );
    let err = add(&mut c, &made.id, "pos", &"9".repeat(129))
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&err), ["identity.external_id"]);
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        add(&mut c, &unknown, "pos", "1").await.unwrap_err().code(),
        Code::NotFound
    );
}

async fn identity_taken_by_another_customer(backend: Backend) {
    let (_ts, _, mut c) = start_acme(backend).await;
    let a = create(&mut c, "a", with_identity("A", "erp", "C-1")).await;
    let b = create(&mut c, "b", named("B")).await;

    let err = add(&mut c, &b.id, "erp", "C-1").await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    assert_eq!(reason(&err), "IDENTITY_TAKEN");
    assert!(get(&mut c, &b.id).await.unwrap().identities.is_empty());

    let clash = pb::Customer {
        identities: vec![ident("web", "new"), ident("erp", "C-1")],
        ..named("C")
    };
    let req = pb::CreateCustomerRequest {
        request_id: "c".into(),
        customer: Some(clash),
    };
    let err = c.create_customer(req).await.unwrap_err();
    assert_eq!(reason(&err), "IDENTITY_TAKEN");
    let (all, _) = list_all(&mut c, pb::ListCustomersRequest::default()).await;
    assert_eq!(all.len(), 2, "the refused create left nothing behind");
    assert_eq!(
        lookup(&mut c, "web", "new").await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(lookup(&mut c, "erp", "C-1").await.unwrap().id, a.id);
}

async fn resolve_creates_stubs_once(backend: Backend) {
    let (ts, tenant_id, mut c) = start_acme(backend).await;
    let known = create(&mut c, "k", with_identity("Known", "erp", "C-1")).await;
    let keys = [
        ("erp", "C-1"),
        ("pos", "card-9"),
        ("pos", "card-9"),
        ("web", "x"),
    ];

    let peek = resolve(&mut c, resolve_req(&keys, false)).await;
    let ids: Vec<_> = peek.iter().map(|r| r.customer_id.as_str()).collect();
    assert_eq!(
        ids,
        [known.id.as_str(), "", "", ""],
        "without create_missing nothing is made"
    );

    // Ingestion calls with the internal credential, naming the tenant.
    let mut internal = ProfilesServiceClient::new(ts.channel());
    let req = ts
        .app
        .internal
        .request(tenant_id, None, resolve_req(&keys, true));
    let first = ok(internal.resolve_identities(req)).await.results;
    let created: Vec<_> = first.iter().map(|r| r.created).collect();
    assert_eq!(
        created,
        [false, true, false, true],
        "each stub is created once, at its first mention"
    );
    assert_eq!(first[0].customer_id, known.id);
    assert_eq!(
        first[1].customer_id,
        identity_id(tenant_id, "pos", "card-9")
    );
    assert_eq!(first[2].customer_id, first[1].customer_id);
    assert_eq!(first[3].customer_id, identity_id(tenant_id, "web", "x"));

    let second = resolve(&mut c, resolve_req(&keys, true)).await;
    assert!(
        second.iter().all(|r| !r.created),
        "a repeat creates nothing"
    );
    let ids =
        |r: &[pb::ResolvedIdentity]| r.iter().map(|x| x.customer_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&second), ids(&first));

    let stub = get(&mut c, &first[1].customer_id).await.unwrap();
    assert!(stub.stub);
    assert_eq!(stub.display_name, "");
    assert_eq!(stub.identities, [ident("pos", "card-9")]);
    let (all, _) = list_all(&mut c, pb::ListCustomersRequest::default()).await;
    assert_eq!(all.len(), 3);

    // Any update enriches a stub.
    let update = rename(&stub.id, "Walk-in");
    let enriched = update_ok(&mut c, update).await;
    assert!(!enriched.stub);

    let too_many = resolve_req(&vec![("pos", "x"); 10_001], false);
    assert_eq!(
        bad_fields(&c.resolve_identities(too_many).await.unwrap_err()),
        ["identities"]
    );
    let bad = resolve_req(&[("pos", "1"), ("", "2")], true);
    assert_eq!(
        bad_fields(&c.resolve_identities(bad).await.unwrap_err()),
        ["identities[1].source"]
    );
}

async fn concurrent_resolvers_converge(backend: Backend) {
    let (_ts, _, c) = start_acme(backend).await;
    let names: Vec<String> = (0..300).map(|i| format!("card-{i}")).collect();
    let keys: Vec<(&str, &str)> = names.iter().map(|n| ("pos", n.as_str())).collect();
    // Two replicas see the same identities in different orders.
    let mut reversed = keys.clone();
    reversed.reverse();
    let (mut c1, mut c2) = (c.clone(), c.clone());
    let (r1, r2) = tokio::join!(
        c1.resolve_identities(resolve_req(&keys, true)),
        c2.resolve_identities(resolve_req(&reversed, true)),
    );
    let (r1, mut r2) = (
        r1.unwrap().into_inner().results,
        r2.unwrap().into_inner().results,
    );
    r2.reverse();
    let ids1: Vec<_> = r1.iter().map(|r| r.customer_id.clone()).collect();
    let ids2: Vec<_> = r2.iter().map(|r| r.customer_id.clone()).collect();
    assert_eq!(ids1, ids2, "both resolvers return the same customers");
    assert_eq!(ids1.iter().collect::<HashSet<_>>().len(), 300);
    for (a, b) in r1.iter().zip(&r2) {
        assert!(
            a.created ^ b.created,
            "exactly one of the two created {}",
            a.customer_id
        );
    }
    let mut c = c;
    let (all, _) = list_all(
        &mut c,
        pb::ListCustomersRequest {
            page_size: 1000,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(all.len(), 300);
}
