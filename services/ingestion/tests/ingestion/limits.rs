//! Bounded inputs: streams end by idleness rather than by the request
//! timeout, request bytes in flight have a budget, and transactions older
//! than the oldest accepted date are refused without touching partitions.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use prost::Message;
use rapport_kit::{
    domain::chrono_to_timestamp,
    testing::{Backend, refused_rows},
};
use rapport_proto::v1::{IngestTransactionsRequest, IngestTransactionsResponse, Transaction};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::support::{Client, Harness, ingest, txn};

rapport_kit::backend_tests!(
    streams_outlive_the_request_timeout_and_get_their_summary,
    idle_streams_end_with_the_idle_status_and_what_they_committed,
    requests_past_the_byte_budget_are_refused_at_once,
    old_transactions_are_refused_and_ingesting_makes_no_partition,
);

/// A stream the test feeds by hand, and its answer once the server gives it.
struct OpenStream {
    tx: mpsc::Sender<IngestTransactionsRequest>,
    answer: tokio::task::JoinHandle<Result<IngestTransactionsResponse, Status>>,
}

fn open(client: &Client) -> OpenStream {
    let (tx, rx) = mpsc::channel(4);
    let mut client = client.clone();
    let answer = tokio::spawn(async move {
        let resp = client.stream_transactions(ReceiverStream::new(rx)).await?;
        Ok(resp.into_inner())
    });
    OpenStream { tx, answer }
}

/// `n` good rows with keys `prefix-0`.. and a full-length category, so a
/// message is large.
fn rows(prefix: &str, n: usize) -> IngestTransactionsRequest {
    let transactions = (0..n)
        .map(|i| Transaction {
            category: "c".repeat(128),
            ..txn(&format!("{prefix}-{i}"), "C-1", 100)
        })
        .collect();
    IngestTransactionsRequest { transactions }
}

async fn streams_outlive_the_request_timeout_and_get_their_summary(backend: Backend) {
    let h = Harness::configured(backend, |c| {
        c.request_timeout_ms = 300;
        c.stream_idle_timeout_ms = 5_000;
    })
    .await;
    let (_, client) = h.tenant("acme").await;
    let s = open(&client);
    let started = Instant::now();
    for part in ["A", "B", "C"] {
        s.tx.send(rows(part, 2)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(s.tx);
    let summary = s.answer.await.unwrap().expect("the stream's summary");
    assert!(started.elapsed() > Duration::from_millis(700));
    assert_eq!(
        (summary.accepted, summary.duplicates),
        (6, 0),
        "{summary:?}"
    );
    assert_eq!(h.count("transactions").await, 6);
    h.stop().await;
}

async fn idle_streams_end_with_the_idle_status_and_what_they_committed(backend: Backend) {
    let h = Harness::configured(backend, |c| c.stream_idle_timeout_ms = 300).await;
    let (_, client) = h.tenant("acme").await;
    let s = open(&client);
    s.tx.send(rows("A", 3)).await.unwrap();
    // The sender stays open and silent.
    let answer = tokio::time::timeout(Duration::from_secs(10), s.answer).await;
    let status = answer
        .expect("ended by the idle timeout")
        .unwrap()
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        status.message().contains("stream_idle_timeout_ms"),
        "{status:?}"
    );
    let info = status.get_error_details().error_info().cloned().unwrap();
    assert_eq!(info.reason, "STREAM_IDLE");
    assert_eq!(info.metadata["accepted"], "3");
    assert_eq!(h.count("transactions").await, 3);
    drop(s.tx);
    h.stop().await;
}

async fn requests_past_the_byte_budget_are_refused_at_once(backend: Backend) {
    let n = 5_000;
    let size = rows("X", n).encoded_len();
    assert!((800_000..1 << 20).contains(&size), "{size} bytes");
    // Each message holds what it takes once decoded (more than its wire
    // size): three fit in the budget, a fourth does not.
    let decoded = rapport_proto::codec::check_decoded_size::<IngestTransactionsRequest>(
        &rows("X", n).encode_to_vec(),
    )
    .unwrap();
    assert!(decoded > size, "{decoded} bytes decoded");
    let h = Harness::configured(backend, |c| {
        c.max_message_bytes = 1 << 20;
        c.inflight_bytes = 3 * decoded + decoded / 2;
    })
    .await;
    let (_, client) = h.tenant("acme").await;

    // Three streams each hold one large message, committed and kept open.
    let mut open_streams = Vec::new();
    for (i, part) in ["A", "B", "C"].into_iter().enumerate() {
        let s = open(&client);
        s.tx.send(rows(part, n)).await.unwrap();
        let stored = ((i + 1) * n) as i64;
        for _ in 0..500 {
            if h.count("transactions").await == stored {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(h.count("transactions").await, stored);
        open_streams.push(s);
    }

    // A fourth does not fit: refused while the others are still open.
    let late = open(&client);
    late.tx.send(rows("D", n)).await.unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(5), late.answer)
        .await
        .expect("answered at once")
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(open_streams.iter().all(|s| !s.answer.is_finished()));

    for s in open_streams {
        drop(s.tx);
        let summary = s.answer.await.unwrap().expect("summary");
        assert_eq!(summary.accepted, n as u32);
    }
    // Their bytes are given back: the same message fits again.
    let again = open(&client);
    again.tx.send(rows("D", n)).await.unwrap();
    drop(again.tx);
    assert_eq!(again.answer.await.unwrap().unwrap().accepted, n as u32);
    h.stop().await;
}

async fn old_transactions_are_refused_and_ingesting_makes_no_partition(backend: Backend) {
    let h = Harness::configured(backend, |c| {
        c.set("ingest.oldest_transaction", "2001-01-01").unwrap();
    })
    .await;
    let (_, mut client) = h.tenant("acme").await;
    let on = |y, m, d| {
        let day = NaiveDate::from_ymd_opt(y, m, d).unwrap();
        Some(chrono_to_timestamp(
            day.and_hms_opt(12, 0, 0).unwrap().and_utc(),
        ))
    };
    let dated = |id: &str, at| Transaction {
        occurred_at: at,
        ..txn(id, "C-1", 100)
    };
    let before = h.partitions().await;
    if backend == Backend::Postgres {
        // This month and the next are ready before any row arrives.
        let month = |t: chrono::DateTime<Utc>| t.format("transactions_p%Y%m").to_string();
        let next = Utc::now()
            .checked_add_months(chrono::Months::new(1))
            .unwrap();
        assert!(before.contains(&month(Utc::now())), "{before:?}");
        assert!(before.contains(&month(next)), "{before:?}");
    }
    let res = ingest(
        &mut client,
        IngestTransactionsRequest {
            transactions: vec![
                dated("T-0", on(1970, 1, 1)),
                dated("T-1", on(2000, 12, 31)),
                dated("T-2", on(2001, 5, 15)),
                dated("T-3", on(2015, 3, 1)),
                txn("T-4", "C-1", 100),
            ],
        },
    )
    .await;
    assert_eq!(res.accepted, 3, "{res:?}");
    assert_eq!(
        refused_rows(&res.rejected),
        [
            (0, "transactions[0].occurred_at"),
            (1, "transactions[1].occurred_at")
        ]
    );
    assert!(res.rejected[0].reason.contains("2001-01-01"), "{res:?}");
    // No partition was made while ingesting; the two old rows went to the
    // default partition.
    assert_eq!(h.partitions().await, before);
    if backend == Backend::Postgres {
        assert_eq!(h.count("transactions_default").await, 2);
    }
    assert_eq!(h.count("transactions").await, 3);
    h.stop().await;
}
