//! A real third-party client: `@connectrpc/connect-node` from npm, with the
//! services built at run time from the descriptor set, drives the all-in-one
//! process over HTTP/1.1 and then HTTP/2 (`tests/node/connect_client.mjs`).
//! `scripts/test` installs its packages (`npm ci --prefix tests/node`).

use std::{path::Path, process::Command};

use rapport_kit::testing::{self, Backend};
use rapport_tests::all_in_one;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_connect_client_ingests_reads_and_is_refused() {
    let node_dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/node"));
    assert!(
        node_dir
            .join("node_modules/@connectrpc/connect-node")
            .is_dir(),
        "the Node client's packages are missing: run `npm ci --prefix tests/node` (scripts/test does)"
    );
    let suite = all_in_one::serving(testing::config(Backend::Sqlite).await).await;
    let (_, key) = all_in_one::tenant(&suite, "acme").await;
    let descriptors = testing::fresh_dir().join("rapport.binpb");
    std::fs::write(&descriptors, rapport_proto::FILE_DESCRIPTOR_SET).unwrap();
    let run = |http: &str| -> Value {
        let out = Command::new("node")
            .arg(node_dir.join("connect_client.mjs"))
            .arg(&descriptors)
            .arg(http)
            .env("RAPPORT_URL", suite.url())
            .env("RAPPORT_API_KEY", &key)
            .output()
            .expect("node runs");
        assert!(out.status.success(), "node over HTTP/{http}: {out:?}");
        serde_json::from_slice(&out.stdout).expect("one JSON line")
    };
    let first = run("1.1");
    assert_eq!(first["accepted"], 1, "{first}");
    assert_eq!(first["duplicates"], 1, "{first}");
    assert_eq!(first["netSpendMinor"], "4250", "{first}");
    assert_eq!(first["purchaseCount"], "1", "{first}");
    assert_eq!(first["refused"]["code"], "InvalidArgument", "{first}");
    assert!(
        first["refused"]["message"]
            .as_str()
            .unwrap()
            .contains("customer_id"),
        "{first}"
    );
    // Over HTTP/2 the same purchase is a duplicate and the score unchanged.
    let second = run("2");
    assert_eq!(second["accepted"], 0, "{second}");
    assert_eq!(second["duplicates"], 1, "{second}");
    assert_eq!(second["customerId"], first["customerId"]);
    assert_eq!(second["netSpendMinor"], "4250", "{second}");
    suite.stop().await.expect("stopped");
}
