//! Reading an import file: the CSV reader, its header, one row read by
//! column name, and the loop that sends valid rows in batches and keeps the
//! score of what was stored and what was refused.

use std::{path::Path, time::Duration};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rapport_proto::v1::RowError;

use super::report::{ImportSummary, Rejection};

/// Options shared by both imports.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Source system name used when the file has no `source` column.
    pub source: String,
    /// Rows per request.
    pub batch_size: usize,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// How long a batch is retried while the server answers with a
    /// retryable status (a service or its database restarting); every
    /// batch is idempotent, so a retry never stores a row twice.
    pub retry_for: Duration,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            source: "erp".to_owned(),
            batch_size: 1000,
            progress: false,
            retry_for: Duration::from_secs(120),
        }
    }
}

/// What is wrong with a row: (column, reason) for every column that is.
pub(super) type Problems = Vec<(String, String)>;

/// One CSV record with its header, read by column name.
pub(super) struct Row<'a> {
    pub(super) headers: &'a [String],
    pub(super) record: &'a csv::StringRecord,
}

impl<'a> Row<'a> {
    /// The value in `column`, empty when the file has no such column.
    pub(super) fn get(&self, column: &str) -> &'a str {
        self.headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.record.get(i))
            .unwrap_or("")
    }
}

/// What the server said about one batch.
pub(super) struct BatchOutcome {
    pub(super) stored: u32,
    pub(super) updated: u32,
    pub(super) unchanged: u32,
    pub(super) customers_created: u32,
    pub(super) rejected: Vec<RowError>,
}

/// A batch the server refused as a whole.
#[derive(Debug)]
pub(super) struct Refused {
    rpc: &'static str,
    status: tonic::Status,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.status;
        write!(f, "{} failed: {}: {}", self.rpc, s.code(), s.message())?;
        match crate::client::tls_failure(s) {
            Some(fix) => write!(f, "\n  {fix}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Refused {}

impl Refused {
    /// Whether the same batch may succeed later: the server or one of its
    /// dependencies was down, overloaded or went away mid-call.
    /// A failed TLS handshake is not: it fails the same way again.
    fn retryable(&self) -> bool {
        use tonic::Code;
        crate::client::tls_failure(&self.status).is_none()
            && matches!(
                self.status.code(),
                Code::Unavailable
                    | Code::ResourceExhausted
                    | Code::Aborted
                    | Code::DeadlineExceeded
                    | Code::Cancelled
                    | Code::Unknown
            )
    }
}

/// The error of a batch the server refused as a whole.
pub(super) fn refused(rpc: &'static str) -> impl FnOnce(tonic::Status) -> anyhow::Error {
    move |status| Refused { rpc, status }.into()
}

/// Sends `items` with `send`, again after a growing pause (100 ms to 5 s)
/// while the answer is retryable, for up to `retry_for`.
async fn send_retrying<T: Clone>(
    items: Vec<T>,
    retry_for: Duration,
    send: &mut impl AsyncFnMut(Vec<T>) -> anyhow::Result<BatchOutcome>,
) -> anyhow::Result<BatchOutcome> {
    let deadline = tokio::time::Instant::now() + retry_for;
    let mut pause = Duration::from_millis(100);
    loop {
        let err = match send(items.clone()).await {
            Ok(outcome) => return Ok(outcome),
            Err(e) => e,
        };
        let retryable = err
            .downcast_ref::<Refused>()
            .is_some_and(Refused::retryable);
        if !retryable || tokio::time::Instant::now() + pause > deadline {
            return Err(err);
        }
        tracing::warn!(error = %err, pause_ms = pause.as_millis() as u64, "batch retried");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

fn reader(path: &Path) -> anyhow::Result<(csv::Reader<std::fs::File>, Vec<String>, u64)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers = rdr
        .headers()
        .with_context(|| format!("reading the header row of {}", path.display()))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    Ok((rdr, headers, len))
}

fn progress_bar(enabled: bool, len: u64, what: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

fn require(headers: &[String], column: &str, path: &Path) -> anyhow::Result<()> {
    if headers.iter().any(|h| h == column) {
        Ok(())
    } else {
        anyhow::bail!(
            "{}: the header row has no `{column}` column",
            path.display()
        )
    }
}

/// Reads `path` row by row, turns each row into a request item with `parse`
/// (refusing what the client can already tell is bad), and hands batches to
/// `send`, which returns the server's verdict (retried while it is a
/// retryable [`refused`]).
pub(super) async fn import_file<T: Clone>(
    path: &Path,
    required: &[&str],
    opts: &ImportOptions,
    what: &str,
    parse: impl Fn(&Row<'_>) -> Result<T, Problems>,
    mut send: impl AsyncFnMut(Vec<T>) -> anyhow::Result<BatchOutcome>,
) -> anyhow::Result<ImportSummary> {
    let (mut rdr, headers, len) = reader(path)?;
    for column in required {
        require(&headers, column, path)?;
    }
    let bar = progress_bar(opts.progress, len, what);
    let mut summary = ImportSummary::default();
    let mut batch: Vec<T> = Vec::with_capacity(opts.batch_size);
    let mut lines: Vec<u64> = Vec::with_capacity(opts.batch_size);
    let mut records = rdr.records();
    loop {
        let record = records
            .next()
            .transpose()
            .with_context(|| format!("reading {}", path.display()))?;
        if let Some(record) = &record {
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            summary.rows += 1;
            match parse(&Row {
                headers: &headers,
                record,
            }) {
                Ok(item) => {
                    batch.push(item);
                    lines.push(line);
                }
                Err(problems) => {
                    summary
                        .rejected
                        .extend(problems.into_iter().map(|(field, reason)| Rejection {
                            line,
                            field,
                            reason,
                        }))
                }
            }
        }
        let done = record.is_none();
        if (batch.len() >= opts.batch_size || done) && !batch.is_empty() {
            let items = std::mem::take(&mut batch);
            let outcome = send_retrying(items, opts.retry_for, &mut send).await?;
            summary.stored += u64::from(outcome.stored);
            summary.updated += u64::from(outcome.updated);
            summary.unchanged += u64::from(outcome.unchanged);
            summary.customers_created += u64::from(outcome.customers_created);
            summary.absorb_rejections(&outcome.rejected, &lines);
            lines.clear();
            if let Some(p) = record.as_ref().and_then(|r| r.position()) {
                bar.set_position(p.byte());
            }
        }
        if done {
            break;
        }
    }
    bar.finish_and_clear();
    summary.rejected.sort_by_key(|r| r.line);
    Ok(summary)
}
