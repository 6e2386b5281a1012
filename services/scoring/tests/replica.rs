//! Whole-tenant reads from a real streaming replica (`pg_basebackup -R` of a
//! private primary): with replay paused on the replica, new scores are read
//! one by one (GetScore, from the cache or the primary) but ListScores and
//! SummarizeScores do not show them until replay resumes, which shows the
//! lists and summaries read the replica, not the primary.

mod support;

use std::time::Duration;

use rapport_kit::{
    config::Secret,
    testing::{self, Backend, instances::Postgres},
};
use rapport_proto::v1::{ListScoresRequest, SummarizeScoresRequest};
use support::{ApiClient, day, get, purchase, start_with};
use uuid::Uuid;

/// Customers ListScores and SummarizeScores count, or the first call's
/// error.
async fn try_listed(client: &mut ApiClient) -> Result<(usize, u64), tonic::Status> {
    let list = client
        .list_scores(ListScoresRequest {
            page_size: 1_000,
            ..Default::default()
        })
        .await?
        .into_inner();
    let summary = client
        .summarize_scores(SummarizeScoresRequest {})
        .await?
        .into_inner();
    Ok((list.scores.len(), summary.customers))
}

/// Customers ListScores and SummarizeScores count.
async fn listed(client: &mut ApiClient) -> (usize, u64) {
    try_listed(client).await.expect("the lists answer")
}

/// Waits up to 20 s until the lists count `n` customers. Until the replica
/// has replayed the migrations the primary ran at start, its tables do not
/// exist yet and the calls fail: that is lag too, and waited out.
async fn until_listed(client: &mut ApiClient, n: usize) {
    for _ in 0..200 {
        if matches!(try_listed(client).await, Ok(got) if got == (n, n as u64)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the replica never listed {n}: {:?}",
        try_listed(client).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_summaries_read_the_replica() {
    let (primary, replica) = Postgres::with_replica().await;
    let mut config = testing::config(Backend::Postgres).await;
    config.database_url = Some(Secret::new(primary.url()));
    config.database_read_url = Some(Secret::new(replica.url()));
    let h = start_with(config).await;
    let (tenant, mut client) = h.tenant("acme").await;

    let first: Vec<Uuid> = (0..30).map(|_| Uuid::new_v4()).collect();
    let changes = first
        .iter()
        .enumerate()
        .map(|(i, c)| purchase(&format!("a{i}"), *c, day(2025, 3, 1), 1_000))
        .collect();
    h.apply(tenant.id, changes).await.unwrap();
    until_listed(&mut client, 30).await;

    // Replay stops on the replica; the primary takes ten more customers.
    replica.pause_replay().await;
    let more: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
    let changes = more
        .iter()
        .enumerate()
        .map(|(i, c)| purchase(&format!("b{i}"), *c, day(2025, 3, 2), 2_000))
        .collect();
    h.apply(tenant.id, changes).await.unwrap();
    for c in &more {
        get(&mut client, *c)
            .await
            .expect("a new score reads one by one");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        listed(&mut client).await,
        (30, 30),
        "lists and summaries come from the paused replica"
    );

    replica.resume_replay().await;
    until_listed(&mut client, 40).await;
    h.ts.stop().await;
    drop((primary, replica));
}
