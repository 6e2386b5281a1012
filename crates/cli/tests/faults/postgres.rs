//! Postgres killed and restarted in the middle of `rapport import`: callers
//! see only UNAVAILABLE, the import retries through it, and what is stored
//! is what an undisturbed import of the same file stores.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use rapport::import::{ImportOptions, import_customers, import_transactions};
use rapport_kit::{
    domain::chrono_to_timestamp,
    testing::{
        instances::{Options, Postgres},
        redis_url,
    },
};
use rapport_proto::v1::{
    ExternalIdentity, IngestTransactionsRequest, Transaction, TransactionKind, transaction,
};

use crate::{
    data::Data,
    stored::{differing, settle, unlike},
    support::{Stack, figure, size},
};

/// One new single-row ingest, as an integration pushing live would send.
fn probe_request(n: usize) -> IngestTransactionsRequest {
    IngestTransactionsRequest {
        transactions: vec![Transaction {
            source: "pos".into(),
            external_id: format!("P{n}"),
            customer: Some(ExternalIdentity {
                source: String::new(),
                external_id: format!("C{}", n % 10),
            }),
            kind: TransactionKind::Purchase as i32,
            occurred_at: Some(chrono_to_timestamp(chrono::Utc::now())),
            currency_code: "EUR".into(),
            amount: Some(transaction::Amount::AmountDecimal("1.00".into())),
            ..Transaction::default()
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_import_is_retried_to_the_same_result() {
    let mut pg = Postgres::spawn(Options::default()).await;
    let data = Data::new(size(3_000, 100_000));
    let (customers_csv, transactions_csv) = data.write();
    let expected = data.expected();
    let stack = Stack::start(&pg.url(), &redis_url(), &[]).await;
    let (calm_key, key) = (stack.tenant("calm"), stack.tenant("acme"));
    let mut calm = stack.clients(&calm_key);
    let mut acme = stack.clients(&key);
    // Small batches, so the restart falls between many of them.
    let opts = ImportOptions {
        batch_size: 100,
        ..ImportOptions::default()
    };
    for c in [&mut calm, &mut acme] {
        import_customers(c, &customers_csv, &opts)
            .await
            .expect("customers");
    }
    let started = Instant::now();
    import_transactions(&mut calm, &transactions_csv, &opts)
        .await
        .expect("undisturbed import");
    let calm_took = started.elapsed();

    // A live caller beside the import, recording every status it gets.
    let stop = Arc::new(AtomicBool::new(false));
    let codes = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let probe = {
        let (stop, codes) = (stop.clone(), codes.clone());
        let mut c = stack.clients(&stack.tenant("probe"));
        tokio::spawn(async move {
            let (mut n, mut longest) = (0, Duration::ZERO);
            while !stop.load(Ordering::SeqCst) {
                let asked = Instant::now();
                let code = match c.ingestion.ingest_transactions(probe_request(n)).await {
                    Ok(_) => "OK".to_owned(),
                    Err(s) => format!("{:?}", s.code()),
                };
                longest = longest.max(asked.elapsed());
                *codes.lock().unwrap().entry(code).or_insert(0) += 1;
                n += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            longest
        })
    };

    let import = tokio::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["import", "transactions"])
        .arg(&transactions_csv)
        .args(["--server", &stack.url("ingestion"), "--api-key", &key])
        .args(["--batch-size", "100"])
        .env("RUST_LOG", "warn")
        .output();
    let import = tokio::spawn(import);
    tokio::time::sleep(calm_took * 2 / 5).await;
    assert!(
        !import.is_finished(),
        "the import still runs when Postgres goes"
    );
    let down = Instant::now();
    pg = tokio::task::spawn_blocking(move || {
        pg.kill9();
        std::thread::sleep(Duration::from_secs(2));
        pg.restart();
        pg
    })
    .await
    .expect("restart postgres");
    let down = down.elapsed();
    let out = import.await.expect("import task").expect("rapport import");
    stop.store(true, Ordering::SeqCst);
    let longest = probe.await.expect("probe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "rapport import failed\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let within = Duration::from_secs(size(180, 1_800));
    let calm = settle(&mut calm, &data, within).await;
    let got = settle(&mut acme, &data, within).await;
    let unlike_calm = unlike(&calm.scores, &got.scores);
    let codes = codes.lock().unwrap().clone();
    figure(
        "postgres restart",
        format!(
            "{} rows, Postgres down {:.1} s; live caller's answers {codes:?} (the slowest in {:.1} s); {} stored, {} \
             lost, {} duplicated; {} of {} scores unlike the undisturbed run",
            data.rows.len(),
            down.as_secs_f64(),
            longest.as_secs_f64(),
            got.transactions,
            got.lost,
            got.duplicated,
            unlike_calm,
            calm.scores.len()
        ),
    );
    assert!(
        codes.keys().all(|c| c == "OK" || c == "Unavailable"),
        "callers saw only UNAVAILABLE: {codes:?}"
    );
    assert!(
        stdout.contains("rows read"),
        "the summary is printed: {stdout}"
    );
    assert_eq!((got.lost, got.duplicated), (0, 0));
    assert_eq!(got.transactions, data.rows.len());
    assert_eq!(differing(&got.scores, &expected), Vec::<String>::new());
    assert_eq!(unlike_calm, 0, "scores unlike the undisturbed run");
    stack.stop().await;
    drop(pg);
}
