//! The worker tier: the four services run with `RAPPORT_ROLES=serve` relay,
//! evaluate and deliver nothing; the same work is done, once, by worker
//! processes started beside them, which serve health but no API. The
//! processes call each other through balanced channels
//! (`RAPPORT_PEERS__BALANCE`), as the production overlay runs them.

use std::time::Duration;

use rapport::{
    client::Clients,
    import::{ImportOptions, import_customers, import_transactions},
};
use rapport_kit::testing::{Receiver, fresh_postgres, redis_url};
use rapport_proto::v1::{ListScoresRequest, scoring_service_client::ScoringServiceClient};

use crate::{
    data::Data,
    kill::{LARGE, deliveries, publish_rule},
    stored::{differing, scores, settle},
    support::{Stack, notification_statuses, webhook_secret},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_processes_run_no_workers_and_worker_processes_serve_no_api() {
    let data = Data::new(300);
    let (customers_csv, transactions_csv) = data.write();
    let expected = data.expected();
    let large = data.purchases_over(LARGE);
    assert!(large > 0, "the data holds purchases that fire the rule");
    let hook = Receiver::start().await;
    let db = fresh_postgres().await;
    // The services call each other as the production overlay has them do,
    // balancing over what each peer's name resolves to.
    let env = [
        ("RAPPORT_ROLES", "serve"),
        ("RAPPORT_PEERS__BALANCE", "true"),
    ];
    let mut stack = Stack::start(&db, &redis_url(), &env).await;
    let key = stack.tenant("roles");
    let mut c: Clients = stack.clients(&key);
    let opts = ImportOptions::default();
    import_customers(&mut c, &customers_csv, &opts)
        .await
        .expect("customers");
    webhook_secret(&mut c).await;
    publish_rule(&mut c, &hook.url("/hook/roles")).await;
    let summary = import_transactions(&mut c, &transactions_csv, &opts)
        .await
        .expect("transactions");
    assert_eq!(summary.stored, data.rows.len() as u64);

    // With the relay polling every 20 ms, three seconds would have scored
    // every customer had an API process relayed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = scores(&mut c).await.expect("scores");
    assert_eq!(
        differing(&before, &expected).len(),
        expected.len(),
        "no customer is scored while only API processes run: {} scores",
        before.len()
    );
    assert!(hook.calls().is_empty(), "nothing delivered yet");
    assert!(
        notification_statuses(&mut c).await.is_empty(),
        "no rule evaluated yet"
    );

    let workers = stack.start_workers().await;
    let mut worker = ScoringServiceClient::connect(workers["scoring"].clone())
        .await
        .expect("connect to the scoring worker");
    let mut request = tonic::Request::new(ListScoresRequest::default());
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {key}").parse().expect("header"),
    );
    let refused = worker.list_scores(request).await.expect_err("no API");
    assert_eq!(refused.code(), tonic::Code::Unimplemented, "{refused:?}");

    let got = settle(&mut c, &data, Duration::from_secs(120)).await;
    assert_eq!((got.lost, got.duplicated), (0, 0));
    assert_eq!(differing(&got.scores, &expected), Vec::<String>::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while deliveries(&hook, "/hook/roles").0 < large && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (delivered, most, _) = deliveries(&hook, "/hook/roles");
    assert_eq!(
        delivered,
        large,
        "{:?}",
        notification_statuses(&mut c).await
    );
    assert_eq!(most, 1, "a dedupe key delivered more than once");
    stack.stop().await;
}
