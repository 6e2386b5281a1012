//! ListCustomers reads the streaming replica at `database_read_url` (a real
//! `pg_basebackup -R` replica of a private primary): with replay paused, a
//! new customer is found by id but not listed until replay resumes.

mod support;

use std::time::Duration;

use rapport_kit::{
    config::Secret,
    testing::{self, Backend, TestServer, instances::Postgres},
};
use rapport_proto::v1::{
    CreateCustomerRequest, Customer, GetCustomerRequest, ListCustomersRequest,
};
use support::{Client, ok, tenant};

async fn listed(client: &mut Client) -> usize {
    let page = ok(client.list_customers(ListCustomersRequest {
        page_size: 100,
        ..Default::default()
    }))
    .await;
    page.customers.len()
}

async fn until_listed(client: &mut Client, n: usize) {
    for _ in 0..200 {
        if listed(client).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the replica never listed {n}");
}

async fn create(client: &mut Client, name: &str) -> String {
    let r = ok(client.create_customer(CreateCustomerRequest {
        request_id: name.to_owned(),
        customer: Some(Customer {
            display_name: name.to_owned(),
            ..Default::default()
        }),
    }))
    .await;
    r.customer.expect("created").id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_listed_from_the_replica() {
    let (primary, replica) = Postgres::with_replica().await;
    let mut config = testing::config(Backend::Postgres).await;
    config.database_url = Some(Secret::new(primary.url()));
    config.database_read_url = Some(Secret::new(replica.url()));
    let ts = TestServer::start(config, |app, server, _| {
        rapport_profiles::add_to(server, app.db(rapport_profiles::SCHEMA)?);
        Ok(())
    })
    .await;
    let (_, mut client) = tenant(&ts, "acme").await;
    for i in 0..5 {
        create(&mut client, &format!("c{i}")).await;
    }
    until_listed(&mut client, 5).await;

    replica.pause_replay().await;
    let late = create(&mut client, "late").await;
    let found = ok(client.get_customer(GetCustomerRequest {
        customer_id: late.clone(),
    }))
    .await;
    assert_eq!(
        found.customer.expect("found").id,
        late,
        "read from the primary"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        listed(&mut client).await,
        5,
        "listed from the paused replica"
    );

    replica.resume_replay().await;
    until_listed(&mut client, 6).await;
    ts.stop().await;
    drop((primary, replica));
}
