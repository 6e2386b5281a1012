//! Worst-case memory: the largest inputs the limits allow, sent to every
//! service at once, as many at a time as each process's byte budget admits,
//! while each process's peak resident size is sampled; each peak is reported
//! against the memory limit of its Kubernetes manifest.
//!
//! Every message is as large as `max_message_bytes` allows: the largest
//! batch the service validates, each row at its longest valid fields, and
//! what is left filled with an unknown field (which the server holds on
//! the wire and prost skips), so that the bytes held and the rows decoded
//! are both at their worst.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use bytes::Bytes;
use futures::future::try_join_all;
use prost::Message;
use rapport_kit::{codec::RawBytes, config::Config};
use rapport_proto::{
    limits::APPLY_CHANGES_MAX_BYTES,
    v1::{
        ApplyChangesRequest, ChangeEvent, Channel as MessageChannel, Consent, CustomerRecord,
        ExternalIdentity, IngestTransactionsRequest, PreviewTemplateRequest, PutTemplateRequest,
        Template, Transaction, TransactionChange, TransactionKind, UpsertCustomersRequest,
        change_event::Change, transaction::Amount,
    },
};
use tonic::{Code, Status, metadata::MetadataValue, transport::Channel};
use uuid::Uuid;

use super::{
    options::Topology,
    procs::status_kb,
    report::{Report, Target as Goal},
    run::Run,
};

/// Each service's memory limit in `k8s/base/<service>.yaml`, in MiB (a test
/// checks them against the manifests).
pub const MEMORY_LIMITS_MIB: [(&str, f64); 4] = [
    ("profiles", 512.0),
    ("ingestion", 192.0),
    ("scoring", 320.0),
    ("notifications", 128.0),
];

/// The services' validation limits the inputs are built to (their own
/// constants are private to each service).
const INGEST_ROWS: usize = 10_000;
const UPSERT_RECORDS: usize = 5_000;
const ATTRIBUTES: usize = 100;
const APPLY_CHANGES: usize = 5_000;
const ID_LEN: usize = 128;
const CATEGORY_LEN: usize = 128;
const TEMPLATE_BODY: usize = 64 * 1024;
const DATA_VALUE: usize = 1024;
/// Notifications decodes at most this much per message.
const NOTIFICATIONS_MAX_BYTES: usize = rapport_proto::limits::CONTROL_MAX_BYTES;

/// Room left under a limit for framing and the unknown field's own header.
const HEADROOM: usize = 64 * 1024;

/// About what one row of each kind takes on the wire at its longest fields.
const TRANSACTION_BYTES: usize = 450;
const CHANGE_BYTES: usize = 330;
const RECORD_BYTES: usize = ATTRIBUTES * 20 + 200;

/// Rows of `row` bytes that fit in `size`, at most `limit` (the batch limit).
fn rows(limit: usize, size: usize, row: usize) -> usize {
    (size.saturating_sub(HEADROOM) / row).clamp(1, limit)
}

/// Sends the worst inputs to each service at once and reports each
/// process's peak resident size against its limit.
pub async fn worst_memory(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let target = &*run.target;
    anyhow::ensure!(
        target.topology() == Topology::Split,
        "worst-memory measures each service in its own process: run it with --topology split"
    );
    let defaults = Config::default();
    let message = run
        .settings
        .worst_message_bytes
        .min(defaults.max_message_bytes);
    let at_once = (defaults.inflight_bytes / defaults.max_message_bytes).max(1);
    let rounds = run.settings.rounds;
    let peaks = Peaks::start(target.pids());
    let sent = Sender {
        key: bearer(&target.api_key)?,
        internal: bearer(&target.internal_token)?,
        tenant: target.tenant_id.to_string(),
        message,
        at_once,
        ids: run.ids.clone(),
        timed_out: Default::default(),
    };
    let urls = [
        target.ingestion_url(),
        target.profiles_url(),
        target.scoring_url(),
        target.notifications_url(),
    ];
    let loads = tokio::try_join!(
        sent.ingestion(&urls[0], rounds),
        sent.profiles(&urls[1], rounds),
        sent.scoring(&urls[2], rounds),
        sent.notifications(&urls[3], rounds),
    );
    let peaks = peaks.finish().await;
    loads?;
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    let scoring_message = (message / 4).min(APPLY_CHANGES_MAX_BYTES);
    for (name, limit) in MEMORY_LIMITS_MIB {
        let peak = peaks
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, bytes)| mib(*bytes as usize))
            .with_context(|| format!("no resident size for {name}"))?;
        let load = match name {
            "ingestion" => format!("{at_once} x {:.2} MiB Ingest, then a stream", mib(message)),
            "profiles" => format!("{at_once} x {:.2} MiB UpsertCustomers", mib(message)),
            "scoring" => format!(
                "{} x {:.2} MiB ApplyChanges",
                at_once * 4,
                mib(scoring_message)
            ),
            _ => {
                let m = message.min(NOTIFICATIONS_MAX_BYTES);
                format!(
                    "{} x {:.2} MiB PreviewTemplate",
                    at_once * message / m,
                    mib(m)
                )
            }
        };
        report.value(
            &format!("Peak RSS under worst input: {name}"),
            format!(
                "{load}, {rounds} round(s), {} call(s) past the request timeout; limit {limit} MiB",
                sent.timed_out[service_of(name)].load(Ordering::Relaxed)
            ),
            peak,
            "MiB",
            Goal::ValueAtMost(limit),
        );
    }
    Ok(())
}

/// Each process's highest resident size since [`Peaks::start`]: VmRSS
/// polled, and VmHWM once it was reset (the kernel keeps it exactly).
pub(super) struct Peaks {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<(String, u64)>>,
}

impl Peaks {
    pub(super) fn start(pids: Vec<(String, u32)>) -> Peaks {
        // Writing 5 to clear_refs resets VmHWM to the current size.
        let reset: Vec<bool> = pids
            .iter()
            .map(|(_, pid)| std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok())
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut peaks = vec![0u64; pids.len()];
            loop {
                for (peak, (_, pid)) in peaks.iter_mut().zip(&pids) {
                    *peak = (*peak).max(status_kb(*pid, "VmRSS").unwrap_or(0));
                }
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            pids.into_iter()
                .zip(peaks)
                .zip(reset)
                .map(|(((name, pid), polled), reset)| {
                    let hwm = if reset { status_kb(pid, "VmHWM") } else { None };
                    (name, polled.max(hwm.unwrap_or(0)))
                })
                .collect()
        });
        Peaks { stop, task }
    }

    pub(super) async fn finish(self) -> Vec<(String, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

/// The index in [`MEMORY_LIMITS_MIB`] of the service a path (or name) is for.
fn service_of(path: &str) -> usize {
    let path = path.to_lowercase();
    MEMORY_LIMITS_MIB
        .iter()
        .position(|(name, _)| path.contains(name))
        .unwrap_or(0)
}

fn bearer(token: &str) -> anyhow::Result<MetadataValue<tonic::metadata::Ascii>> {
    Ok(MetadataValue::try_from(format!("Bearer {token}"))?)
}

/// `message` encoded, then an unknown field (number 1000) filling it up to
/// `size` bytes.
fn padded(message: &impl Message, size: usize) -> Bytes {
    let mut bytes = message.encode_to_vec();
    let room = size.saturating_sub(bytes.len() + 16);
    if room > 0 {
        prost::encoding::bytes::encode(1_000, &vec![b'.'; room], &mut bytes);
    }
    bytes.into()
}

/// A string of exactly `len` bytes starting with `prefix`.
fn long(prefix: &str, len: usize) -> String {
    let mut s = prefix.to_owned();
    s.extend(std::iter::repeat_n('x', len.saturating_sub(prefix.len())));
    s.truncate(len);
    s
}

struct Sender {
    key: MetadataValue<tonic::metadata::Ascii>,
    internal: MetadataValue<tonic::metadata::Ascii>,
    tenant: String,
    /// Bytes of each message.
    message: usize,
    /// Messages the byte budget admits at once.
    at_once: usize,
    ids: Arc<Vec<String>>,
    /// Calls each service (in [`MEMORY_LIMITS_MIB`] order) answered
    /// DEADLINE_EXCEEDED.
    timed_out: [std::sync::atomic::AtomicUsize; 4],
}

impl Sender {
    /// Sends `message` to `path` (each item of `stream` as one message of a
    /// client stream instead, when given), retrying while the byte budget
    /// is full.
    async fn send(
        &self,
        url: &str,
        path: &'static str,
        messages: Vec<Bytes>,
        streaming: bool,
        internal: bool,
    ) -> anyhow::Result<()> {
        // Longer than the server's request timeout, so that the server's
        // answer is the one seen.
        let chan = rapport_kit::internal::lazy_channel(url, Duration::from_secs(300))?;
        for attempt in 0.. {
            match self
                .call(chan.clone(), path, messages.clone(), streaming, internal)
                .await
            {
                Err(s) if s.code() == Code::ResourceExhausted && attempt < 2_400 => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                // Past the server's request timeout the handler is dropped:
                // what it held was still measured, and the count reported.
                Err(s) if s.code() == Code::DeadlineExceeded => {
                    self.timed_out[service_of(path)].fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                other => return other.map(|_| ()).with_context(|| path.to_owned()),
            }
        }
        Ok(())
    }

    async fn call(
        &self,
        chan: Channel,
        path: &'static str,
        messages: Vec<Bytes>,
        streaming: bool,
        internal: bool,
    ) -> Result<Bytes, Status> {
        let mut grpc = tonic::client::Grpc::new(chan)
            .max_encoding_message_size(64 << 20)
            .max_decoding_message_size(64 << 20);
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let path = http::uri::PathAndQuery::from_static(path);
        let codec = RawBytes;
        let authorize = |md: &mut tonic::metadata::MetadataMap| {
            if internal {
                md.insert("authorization", self.internal.clone());
                if let Ok(t) = self.tenant.parse() {
                    md.insert(rapport_kit::internal::TENANT_HEADER, t);
                }
            } else {
                md.insert("authorization", self.key.clone());
            }
        };
        let answer = if streaming {
            let mut req = tonic::Request::new(futures::stream::iter(messages));
            authorize(req.metadata_mut());
            grpc.client_streaming(req, path, codec).await?
        } else {
            let mut req = tonic::Request::new(messages.into_iter().next().unwrap_or_default());
            authorize(req.metadata_mut());
            grpc.unary(req, path, codec).await?
        };
        Ok(answer.into_inner())
    }

    fn customer(&self, n: usize) -> String {
        self.ids[n % self.ids.len()].clone()
    }

    /// IngestTransactions of 10,000 rows at their longest fields, as many at
    /// once as the budget admits, then a stream of as many such messages.
    async fn ingestion(&self, url: &str, rounds: usize) -> anyhow::Result<()> {
        let n = rows(INGEST_ROWS, self.message, TRANSACTION_BYTES);
        let batch = |tag: &str| {
            let run = Uuid::new_v4().simple().to_string();
            let transactions = (0..n)
                .map(|i| Transaction {
                    source: long("bench", ID_LEN),
                    external_id: long(&format!("{tag}-{run}-{i}-"), ID_LEN),
                    customer_id: self.customer(i),
                    kind: TransactionKind::Purchase as i32,
                    currency_code: "EUR".to_owned(),
                    amount: Some(Amount::AmountMinor(1_000)),
                    category: long("category", CATEGORY_LEN),
                    ..Default::default()
                })
                .collect();
            padded(
                &IngestTransactionsRequest { transactions },
                self.message - HEADROOM,
            )
        };
        const INGEST: &str = "/rapport.v1.IngestionService/IngestTransactions";
        const STREAM: &str = "/rapport.v1.IngestionService/StreamTransactions";
        for round in 0..rounds {
            let unary = (0..self.at_once).map(|n| {
                self.send(
                    url,
                    INGEST,
                    vec![batch(&format!("w{round}u{n}"))],
                    false,
                    false,
                )
            });
            try_join_all(unary).await?;
            let stream = (0..self.at_once)
                .map(|n| batch(&format!("w{round}s{n}")))
                .collect();
            self.send(url, STREAM, stream, true, false).await?;
        }
        Ok(())
    }

    /// UpsertCustomers of 5,000 records of 100 attributes and a consent per
    /// channel each, filling the message.
    async fn profiles(&self, url: &str, rounds: usize) -> anyhow::Result<()> {
        // What an attribute may take for the records to fill the message.
        let n = rows(UPSERT_RECORDS, self.message, RECORD_BYTES);
        let per_record = self.message.saturating_sub(HEADROOM) / n;
        let value_len = (per_record.saturating_sub(400) / ATTRIBUTES)
            .saturating_sub(16)
            .max(1);
        let batch = |tag: &str| {
            let records = (0..n)
                .map(|i| CustomerRecord {
                    identity: Some(ExternalIdentity {
                        source: "bench-worst".to_owned(),
                        external_id: format!("{tag}-{i}"),
                    }),
                    display_name: long("Customer ", 64),
                    email: format!("c{i}@example.com"),
                    attributes: (0..ATTRIBUTES)
                        .map(|a| (format!("attribute{a:03}"), long("v", value_len)))
                        .collect(),
                    consents: (1..=3)
                        .map(|channel| Consent {
                            channel,
                            granted: true,
                            granted_at: Some(prost_types::Timestamp {
                                seconds: 1_700_000_000,
                                nanos: 0,
                            }),
                            revoked_at: None,
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect();
            padded(
                &UpsertCustomersRequest { customers: records },
                self.message - HEADROOM,
            )
        };
        const UPSERT: &str = "/rapport.v1.ProfilesService/UpsertCustomers";
        for round in 0..rounds {
            let calls = (0..self.at_once).map(|n| {
                self.send(
                    url,
                    UPSERT,
                    vec![batch(&format!("w{round}-{n}"))],
                    false,
                    false,
                )
            });
            try_join_all(calls).await?;
        }
        Ok(())
    }

    /// ApplyChanges of 5,000 changes filling scoring's 4 MiB limit, with the
    /// internal credential as the relay calls it, as many at once as the
    /// budget admits.
    async fn scoring(&self, url: &str, rounds: usize) -> anyhow::Result<()> {
        let size = (self.message / 4).min(APPLY_CHANGES_MAX_BYTES);
        let at_once = self.at_once * 4;
        let now = chrono::Utc::now().timestamp();
        let n = rows(APPLY_CHANGES, size, CHANGE_BYTES);
        let batch = || {
            let changes = (0..n)
                .map(|i| ChangeEvent {
                    id: long(&format!("worst:{}", Uuid::new_v4()), ID_LEN),
                    customer_id: self.customer(i * 7_919),
                    change: Some(Change::Transaction(TransactionChange {
                        kind: TransactionKind::Purchase as i32,
                        occurred_at: Some(prost_types::Timestamp {
                            seconds: now - (i as i64 % 86_400),
                            nanos: 0,
                        }),
                        amount_minor: 1_000,
                        currency_code: "EUR".to_owned(),
                        category: long("category", CATEGORY_LEN),
                        ..Default::default()
                    })),
                })
                .collect();
            padded(&ApplyChangesRequest { changes }, size - HEADROOM)
        };
        const APPLY: &str = "/rapport.v1.ScoringService/ApplyChanges";
        for _ in 0..rounds {
            let calls = (0..at_once).map(|_| self.send(url, APPLY, vec![batch()], false, true));
            try_join_all(calls).await?;
        }
        Ok(())
    }

    /// The largest template (a 64 KiB body), then PreviewTemplate with all
    /// the 1 KiB data values it may carry, padded to the largest message
    /// notifications decodes, as many at once as the budget admits.
    async fn notifications(&self, url: &str, rounds: usize) -> anyhow::Result<()> {
        let name = format!("worst-{}", Uuid::new_v4().simple());
        let placeholders = "{{ data.k0 }} {{ data.k1 }} ";
        let template = Template {
            name: name.clone(),
            channel: MessageChannel::Email as i32,
            locale: "en".to_owned(),
            subject: long("Subject ", 200),
            // Room for the two values it renders, so it stays within the
            // 64 KiB a rendered body may have.
            body: long(placeholders, TEMPLATE_BODY - 4 * DATA_VALUE),
            required_data: vec!["k0".to_owned(), "k1".to_owned()],
            default_locale: true,
            ..Default::default()
        };
        let put = PutTemplateRequest {
            template: Some(template),
        };
        const PUT: &str = "/rapport.v1.NotificationsService/PutTemplate";
        const PREVIEW: &str = "/rapport.v1.NotificationsService/PreviewTemplate";
        self.send(url, PUT, vec![put.encode_to_vec().into()], false, false)
            .await?;
        let message = self.message.min(NOTIFICATIONS_MAX_BYTES);
        let at_once = self.at_once * self.message / message;
        let preview = || {
            let request = PreviewTemplateRequest {
                name: name.clone(),
                channel: MessageChannel::Email as i32,
                locale: "en".to_owned(),
                customer_id: self.customer(0),
                data: (0..rapport_notifications::MAX_DATA_ENTRIES)
                    .map(|k| (format!("k{k}"), long("value", DATA_VALUE)))
                    .collect(),
            };
            padded(&request, message - HEADROOM)
        };
        for _ in 0..rounds {
            let calls =
                (0..at_once).map(|_| self.send(url, PREVIEW, vec![preview()], false, false));
            try_join_all(calls).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limits reported against are the manifests' own.
    #[test]
    fn memory_limits_match_the_manifests() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../k8s/base");
        for (service, mib) in MEMORY_LIMITS_MIB {
            let manifest = std::fs::read_to_string(root.join(format!("{service}.yaml"))).unwrap();
            let limits = manifest
                .split("limits:")
                .nth(1)
                .unwrap_or_else(|| panic!("{service}: no limits"));
            let memory = limits
                .lines()
                .find_map(|l| l.trim().strip_prefix("memory:"))
                .unwrap_or_else(|| panic!("{service}: no memory limit"))
                .trim();
            assert_eq!(memory, format!("{mib}Mi"), "{service}");
        }
    }

    #[test]
    fn messages_are_filled_to_the_size_asked() {
        let message = IngestTransactionsRequest::default();
        let bytes = padded(&message, 100_000);
        assert!((99_900..=100_000).contains(&bytes.len()), "{}", bytes.len());
        assert_eq!(
            IngestTransactionsRequest::decode(bytes).unwrap(),
            message,
            "the filler is an unknown field"
        );
    }
}
