//! `rapport verify scores` against a running suite: after an import every
//! customer's score matches its transactions; after a score is changed in
//! the scoring database behind the service's back, that customer is named
//! with the fields that differ and the command fails.

use std::{process::Output, time::Duration};

use rapport_kit::testing::{free_port, fresh_dir, run_ok};
use sqlx::{Connection, SqliteConnection};

mod common;
use common::{Up, rapport, tenant_key};

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_a_customer_whose_stored_score_was_changed() {
    let dir = fresh_dir();
    let key = tenant_key(&dir, "acme");
    let port = free_port();
    let up = Up::serving(&dir, port).await;
    let server = url(port);
    let remote = ["--server", server.as_str(), "--api-key", key.as_str()];

    let customers = dir.join("customers.csv");
    std::fs::write(
        &customers,
        "customer_id,name,kind\nC1,Ada,person\nC2,Ben,business\nC3,Cy,person\n",
    )
    .unwrap();
    let transactions = dir.join("transactions.csv");
    std::fs::write(
        &transactions,
        "transaction_id,customer_id,occurred_at,amount,currency,kind\n\
         T1,C1,2026-01-05,120.00,EUR,purchase\n\
         T2,C1,2026-02-07 10:30:00,80.50,EUR,purchase\n\
         T3,C1,2026-02-09,20.00,EUR,refund\n\
         T4,C2,2025-11-30T08:00:00Z,9.99,EUR,purchase\n",
    )
    .unwrap();
    for (what, file) in [("customers", &customers), ("transactions", &transactions)] {
        run_ok(rapport(&dir).args(["import", what]).arg(file).args(remote));
    }

    // Scoring follows ingestion through the outbox; once it has caught up,
    // every customer verifies (C3, without transactions, as well).
    let verify = |extra: &[&str]| {
        rapport(&dir)
            .args(["verify", "scores"])
            .args(remote)
            .args(extra)
            .output()
            .unwrap()
    };
    let mut settled = None;
    for _ in 0..600 {
        let out = verify(&[]);
        if out.status.success() {
            settled = Some(stdout(&out));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let settled = settled.expect("every score matched its transactions after the import");
    assert!(
        settled.contains("3 customers checked, 0 differ"),
        "{settled}"
    );
    up.stop().await;

    // Ada's purchase total is raised by one cent behind scoring's back.
    let db = dir.join("scoring.db");
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let (ada, stored): (String, i64) = sqlx::query_as(
        "UPDATE customer_scores SET purchase_total_minor = purchase_total_minor + 1 \
         WHERE purchase_count = 2 RETURNING customer_id, purchase_total_minor",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(stored, 20_051);
    conn.close().await.unwrap();
    let ben: (String,) = {
        let mut conn = SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query_as("SELECT customer_id FROM customer_scores WHERE purchase_count = 1")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };

    // A fresh process, so no cached score hides the stored one.
    let _up = Up::serving(&dir, port).await;
    let all = verify(&[]);
    assert!(!all.status.success(), "a changed score passed verification");
    let said = stdout(&all);
    assert!(said.contains(&format!("customer {ada}:")), "{said}");
    assert!(
        said.contains("purchase_total: stored 20051, recomputed 20050"),
        "{said}"
    );
    assert!(
        said.contains("net_spend: stored 18051, recomputed 18050"),
        "{said}"
    );
    assert!(!said.contains("purchase_count"), "{said}");
    assert!(!said.contains(&ben.0), "{said}");
    assert!(said.contains("3 customers checked, 1 differ"), "{said}");

    let one = verify(&["--customer", &ada]);
    assert!(!one.status.success());
    assert!(stdout(&one).contains("1 customers checked, 1 differ"));
    let other = verify(&["--customer", &ben.0]);
    assert!(other.status.success(), "{}", stdout(&other));
    let sample = verify(&["--sample", "3"]);
    assert!(!sample.status.success());
    assert!(
        stdout(&sample).contains(&format!("customer {ada}:")),
        "{}",
        stdout(&sample)
    );
}
