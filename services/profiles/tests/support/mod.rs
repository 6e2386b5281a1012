//! Helpers shared by the behavioural suites: a server with the profiles
//! service, clients per tenant, and short ways to build requests.
#![allow(dead_code)]

// Not every test binary reads statuses.
#[allow(unused_imports)]
pub use rapport_kit::testing::{bad_fields, ok};
use rapport_kit::{internal::BearerAuth, testing, testing::TestServer};
use rapport_proto::v1::{self as pb, profiles_service_client::ProfilesServiceClient};
use tonic::{Status, service::interceptor::InterceptedService, transport::Channel};
use uuid::Uuid;

/// A client authenticated as one tenant.
pub type Client = ProfilesServiceClient<InterceptedService<Channel, BearerAuth>>;

/// Starts a server running only the profiles service on `backend`.
pub async fn start(backend: testing::Backend) -> TestServer {
    TestServer::start(testing::config(backend).await, |app, server, _| {
        let db = app.db(rapport_profiles::SCHEMA)?;
        rapport_profiles::add_to(server, db);
        Ok(())
    })
    .await
}

/// Creates tenant `name`; returns its id and a client acting for it.
pub async fn tenant(ts: &TestServer, name: &str) -> (Uuid, Client) {
    let (tenant, key) = ts.tenant(name, "EUR").await;
    let client =
        ProfilesServiceClient::with_interceptor(ts.channel(), BearerAuth::new(&key).unwrap())
            .max_encoding_message_size(64 << 20);
    (tenant.id, client)
}

/// Starts a server with tenant "acme"; returns the server, the tenant's id
/// and a client acting for it.
pub async fn start_acme(backend: testing::Backend) -> (TestServer, Uuid, Client) {
    let ts = start(backend).await;
    let (id, client) = tenant(&ts, "acme").await;
    (ts, id, client)
}

/// An external identity.
pub fn ident(source: &str, external_id: &str) -> pb::ExternalIdentity {
    pb::ExternalIdentity {
        source: source.into(),
        external_id: external_id.into(),
    }
}

/// A customer payload with a name and nothing else.
pub fn named(name: &str) -> pb::Customer {
    pb::Customer {
        display_name: name.into(),
        ..Default::default()
    }
}

/// A customer payload with a name and one identity.
pub fn with_identity(name: &str, source: &str, external_id: &str) -> pb::Customer {
    pb::Customer {
        identities: vec![ident(source, external_id)],
        ..named(name)
    }
}

/// A `ResolveIdentities` request for `keys`.
pub fn resolve_req(keys: &[(&str, &str)], create_missing: bool) -> pb::ResolveIdentitiesRequest {
    pb::ResolveIdentitiesRequest {
        identities: keys.iter().map(|(s, e)| ident(s, e)).collect(),
        create_missing,
        ..Default::default()
    }
}

/// Resolves identities; panics on an error.
pub async fn resolve(
    client: &mut Client,
    req: pb::ResolveIdentitiesRequest,
) -> Vec<pb::ResolvedIdentity> {
    let resp = client.resolve_identities(req).await.expect("resolve");
    resp.into_inner().results
}

/// Creates a customer; panics unless it is new.
pub async fn create(client: &mut Client, request_id: &str, customer: pb::Customer) -> pb::Customer {
    let resp = ok(client.create_customer(pb::CreateCustomerRequest {
        request_id: request_id.into(),
        customer: Some(customer),
    }))
    .await;
    assert!(resp.created, "{request_id} already existed");
    resp.customer.unwrap()
}

/// An update that renames customer `id` and changes nothing else.
pub fn rename(id: &str, name: &str) -> pb::UpdateCustomerRequest {
    pb::UpdateCustomerRequest {
        customer: Some(pb::Customer {
            id: id.into(),
            ..named(name)
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["display_name".into()],
        }),
    }
}

/// Updates a customer; panics on an error.
pub async fn update_ok(client: &mut Client, req: pb::UpdateCustomerRequest) -> pb::Customer {
    let resp = client.update_customer(req).await.expect("update customer");
    resp.into_inner().customer.unwrap()
}

/// Reads a customer.
pub async fn get(client: &mut Client, id: &str) -> Result<pb::Customer, Status> {
    let resp = client
        .get_customer(pb::GetCustomerRequest {
            customer_id: id.into(),
        })
        .await?;
    Ok(resp.into_inner().customer.unwrap())
}

/// Every customer of the client's tenant matching `filter`, following pages
/// of `page_size`; also returns the number of pages.
pub async fn list_all(
    client: &mut Client,
    mut req: pb::ListCustomersRequest,
) -> (Vec<pb::Customer>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let resp = ok(client.list_customers(req.clone())).await;
        pages += 1;
        assert!(req.page_size == 0 || resp.customers.len() <= req.page_size as usize);
        out.extend(resp.customers);
        if resp.next_page_token.is_empty() {
            return (out, pages);
        }
        req.page_token = resp.next_page_token;
    }
}

/// A protobuf timestamp at `seconds` after the epoch.
pub fn at(seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos: 0 }
}

/// The id a customer created for an identity gets.
pub fn identity_id(tenant: Uuid, source: &str, external_id: &str) -> String {
    Uuid::new_v5(
        &tenant,
        format!("identity:{source}\0{external_id}").as_bytes(),
    )
    .to_string()
}
