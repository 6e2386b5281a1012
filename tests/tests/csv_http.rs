//! CSV over HTTP as an ERP job sends it: `curl --data-binary @file` to
//! `/v1/import/customers` and `/v1/import/transactions` over HTTP/1.1, with a
//! length or chunked. The report counts and names refused rows by line and
//! column; the same file again stores nothing twice (checked through the
//! API); a file of several batches, a quoted newline, a missing key and a bad
//! parameter; the README's block as written; and in split mode, each port
//! takes only what its services serve. (curl blocks its thread: the servers
//! run on the others.)

use std::{path::Path, process::Command, time::Duration};

use rapport_kit::testing::{self, Backend};
use rapport_tests::{
    SplitSuite, all_in_one, customer_id,
    http::{curl, readme_example},
    score_once,
};
use serde_json::Value;

/// POSTs the file at `path` as CSV to `url` + `path_and_query` with `key`
/// (none for ""), over HTTP/1.1: the status and the JSON answer.
fn post_csv(url: &str, target: &str, key: &str, file: &Path, extra: &[&str]) -> (u16, Value) {
    let auth = format!("Authorization: Bearer {key}");
    let data = format!("@{}", file.display());
    let target = format!("{url}{target}");
    let mut args = vec!["--http1.1", "-H", "Content-Type: text/csv"];
    args.extend(["--data-binary", data.as_str()]);
    if !key.is_empty() {
        args.extend(["-H", auth.as_str()]);
    }
    args.extend(extra);
    args.push(&target);
    let (status, body) = curl(&args);
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (status, json)
}

const CHUNKED: &[&str] = &["-H", "Transfer-Encoding: chunked"];

/// The counts of a report: rows, stored, updated, unchanged,
/// customersCreated, rejectedRows.
fn counts(r: &Value) -> [u64; 6] {
    [
        "rows",
        "stored",
        "updated",
        "unchanged",
        "customersCreated",
        "rejectedRows",
    ]
    .map(|k| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}")))
}

// C3's name holds a newline inside quotes: the row after it is on line 5.
const CUSTOMERS: &str = "customer_id,name,kind,consent_email,region
C1,Ada Lovelace,person,yes,north
C3,\"Cy
Third\",business,,south
C2,Bob,alien,maybe,west
";

/// 2,400 purchases of 1.00 EUR, alternately of C1 and of C9 (unknown to
/// profiles), then a row the client refuses (its date) and one the server
/// refuses (its currency): lines 2 to 2401, 2402 and 2403.
fn transactions() -> String {
    let mut csv = String::from("transaction_id,customer_id,occurred_at,amount,currency\n");
    for i in 0..2400 {
        let customer = if i % 2 == 0 { "C1" } else { "C9" };
        csv.push_str(&format!("T{i},{customer},2026-01-02,1.00,EUR\n"));
    }
    csv.push_str("T-bad-date,C1,yesterday,1.00,EUR\n");
    csv.push_str("T-bad-currency,C1,2026-01-02,1.00,XXX\n");
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn csv_imports_over_http_report_and_store_once() {
    let mut config = testing::config(Backend::Postgres).await;
    config.redis_url = Some(rapport_kit::config::Secret::new(testing::redis_url()));
    let suite = all_in_one::serving(config).await;
    let (_, key) = all_in_one::tenant(&suite, "acme").await;
    let url = suite.url();
    let dir = testing::fresh_dir();
    let (customers, transactions_csv) = (dir.join("customers.csv"), dir.join("tx.csv"));
    std::fs::write(&customers, CUSTOMERS).unwrap();
    std::fs::write(&transactions_csv, transactions()).unwrap();

    // Customers: two stored, C2 refused with both its problems, by line and column.
    let (status, r) = post_csv(&url, "/v1/import/customers", &key, &customers, &[]);
    assert_eq!(status, 200, "{r}");
    assert_eq!(counts(&r), [3, 2, 0, 0, 0, 1], "{r}");
    assert_eq!(r["rejected"][0]["line"], 5, "{r}");
    assert_eq!(r["rejected"][0]["field"], "kind", "{r}");
    assert!(
        r["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("alien"),
        "{r}"
    );
    assert_eq!(r["rejected"][1]["field"], "consent_email", "{r}");
    assert_eq!(r["rejectedTruncated"], false);
    assert_eq!(r["lastLineStored"], 3, "{r}");
    // The quoted newline is part of the name.
    let mut clients = all_in_one::clients(&suite, &key);
    let c3 = clients
        .profiles
        .lookup_customer(rapport_proto::v1::LookupCustomerRequest {
            identity: Some(rapport_proto::v1::ExternalIdentity {
                source: "erp".into(),
                external_id: "C3".into(),
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert_eq!(c3.display_name, "Cy\nThird");
    assert_eq!(c3.attributes["region"], "south");

    // Transactions, chunked, in three batches of 1,000: the unknown C9 is
    // created once; the client's and the server's refusals both by column.
    let target = "/v1/import/transactions?batch_size=1000";
    let (status, r) = post_csv(&url, target, &key, &transactions_csv, CHUNKED);
    assert_eq!(status, 200, "{r}");
    assert_eq!(counts(&r), [2402, 2400, 0, 0, 1, 2], "{r}");
    let rejected: Vec<(u64, &str)> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_u64().unwrap(), p["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rejected, [(2402, "occurred_at"), (2403, "currency")], "{r}");
    assert_eq!(r["lastLineStored"], 2403, "{r}");
    let c1 = customer_id(&mut clients, "C1").await;
    let counted = |s: &rapport_proto::v1::Score| s.purchase_count == 1200;
    let score = score_once(&mut clients, &c1, Duration::from_secs(30), counted).await;
    assert!(
        score.is_some(),
        "C1's score never counted its 1,200 purchases"
    );

    // The same files again: nothing stored, nothing created, all unchanged.
    let (status, r) = post_csv(&url, "/v1/import/customers", &key, &customers, CHUNKED);
    assert_eq!((status, counts(&r)), (200, [3, 0, 0, 2, 0, 1]), "{r}");
    let (status, r) = post_csv(&url, target, &key, &transactions_csv, &[]);
    assert_eq!((status, counts(&r)), (200, [2402, 0, 0, 2400, 0, 2]), "{r}");
    // Nor counted twice: C1 still has 1,200 purchases once the relay has
    // had time to pass on anything the second post might have stored.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let score = clients
        .scoring
        .get_score(rapport_proto::v1::GetScoreRequest { customer_id: c1 })
        .await
        .unwrap()
        .into_inner()
        .score
        .unwrap();
    assert_eq!(score.purchase_count, 1200);

    // No key: 401 and Connect's error JSON, with the report of nothing stored.
    let (status, e) = post_csv(&url, target, "", &transactions_csv, &[]);
    assert_eq!((status, e["code"].as_str()), (401, Some("unauthenticated")));
    assert_eq!(e["report"]["stored"], 0, "{e}");
    assert_eq!(e["report"]["lastLineStored"], 0, "{e}");
    // A bad parameter is named; so is the content type a file needs.
    let (status, e) = post_csv(
        &url,
        "/v1/import/transactions?batch_size=0",
        &key,
        &transactions_csv,
        &[],
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("invalid_argument"))
    );
    assert!(e["message"].as_str().unwrap().contains("batch_size"), "{e}");
    let auth = format!("Authorization: Bearer {key}");
    let (status, e) = curl(&[
        "-H",
        "Content-Type: application/json",
        "-H",
        &auth,
        "--data-binary",
        &format!("@{}", customers.display()),
        &format!("{url}/v1/import/customers"),
    ]);
    let e: Value = serde_json::from_str(&e).unwrap();
    assert_eq!(status, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("text/csv"), "{e}");
    // A header without a required column says which.
    let headless = dir.join("headless.csv");
    std::fs::write(&headless, "customer,amount\nC1,1.00\n").unwrap();
    let (status, e) = post_csv(&url, "/v1/import/transactions", &key, &headless, &[]);
    assert_eq!(status, 400, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("`transaction_id`"),
        "{e}"
    );
    suite.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_csv_block_prints_what_the_readme_says() {
    let suite = all_in_one::serving(testing::config(Backend::Sqlite).await).await;
    let (_, key) = all_in_one::tenant(&suite, "acme").await;
    let (block, expected) = readme_example("### CSV over HTTP", &suite.url());
    let run = || {
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &block])
            .current_dir(testing::fresh_dir())
            .env("RAPPORT_API_KEY", &key)
            .output()
            .expect("bash");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(run(), expected);
    // The OpenAPI document lists both imports.
    let (_, doc) = curl(&[&format!("{}/openapi.json", suite.url())]);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    for what in ["customers", "transactions"] {
        let op = &doc["paths"][format!("/v1/import/{what}")]["post"];
        assert!(op["requestBody"]["content"]["text/csv"].is_object(), "{op}");
    }
    // Again: the row stored before is unchanged, as the README says.
    let again: Value = serde_json::from_str(&run()).unwrap();
    assert_eq!(
        (&again["stored"], &again["unchanged"]),
        (&0.into(), &1.into())
    );
    suite.stop().await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_split_mode_each_port_takes_what_it_serves() {
    // Messages of at most 64 KiB: the file (about 90 KiB) is larger than
    // any one call may be, and goes in batches cut by size as well as count.
    let mut config = testing::config(Backend::Postgres).await;
    config.max_message_bytes = 64 << 10;
    let suite = SplitSuite::start(config).await;
    let (_, key) = suite.profiles.tenant("acme", "EUR").await;
    let dir = testing::fresh_dir();
    let customers = dir.join("customers.csv");
    std::fs::write(&customers, CUSTOMERS).unwrap();
    let transactions_csv = dir.join("tx.csv");
    std::fs::write(&transactions_csv, transactions()).unwrap();
    assert!(transactions().len() > 64 << 10);

    let scoring = suite.scoring.url();
    let (status, e) = post_csv(&scoring, "/v1/import/customers", &key, &customers, &[]);
    assert_eq!((status, e["code"].as_str()), (501, Some("unimplemented")));
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("rapport.v1.ProfilesService"), "{e}");
    assert_eq!(e["report"]["stored"], 0, "{e}");

    let (status, r) = post_csv(
        &suite.profiles.url(),
        "/v1/import/customers",
        &key,
        &customers,
        &[],
    );
    assert_eq!((status, counts(&r)), (200, [3, 2, 0, 0, 0, 1]), "{r}");
    let (status, r) = post_csv(
        &suite.ingestion.url(),
        "/v1/import/transactions",
        &key,
        &transactions_csv,
        CHUNKED,
    );
    assert_eq!((status, counts(&r)), (200, [2402, 2400, 0, 0, 1, 2]), "{r}");
    suite.stop().await;
}
