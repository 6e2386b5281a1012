//! Reading an import file: the CSV reader, its header, one row read by
//! column name, and the loop that sends valid rows in batches and keeps the
//! score of what was stored and what was refused.

use std::{path::Path, time::Duration};

use std::io::Read as _;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rapport_kit::import::{BatchOutcome, Import, ImportError, ImportSummary, Kind};

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

/// Reads `path` in chunks, turns each row into a request item as `kind`
/// says (refusing what the client can already tell is bad), and hands
/// batches to `send`, which returns the server's verdict (retried while it
/// is a retryable [`refused`]).
pub(super) async fn import_file<K: Kind>(
    path: &Path,
    kind: K,
    opts: &ImportOptions,
    mut send: impl AsyncFnMut(Vec<K::Item>) -> anyhow::Result<BatchOutcome>,
) -> anyhow::Result<ImportSummary> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(opts.progress, len, K::WHAT);
    // The CLI sends batches by count only and lists every problem.
    let mut import = Import::new(kind, opts.batch_size, usize::MAX, usize::MAX, usize::MAX);
    let mut buf = vec![0; 64 * 1024];
    let failed = |e: ImportError| match e {
        ImportError::MissingColumn(_) => anyhow::anyhow!("{}: {e}", path.display()),
        ImportError::Csv(_) => anyhow::Error::new(e).context(format!("reading {}", path.display())),
    };
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut input = &buf[..n];
        loop {
            let batch = if n == 0 {
                import.finish()
            } else {
                import.feed(&mut input)
            };
            let Some(batch) = batch.map_err(failed)? else {
                break;
            };
            let outcome = send_retrying(batch.items, opts.retry_for, &mut send).await?;
            import.summary.absorb(&outcome, &batch.lines);
            bar.set_position(import.bytes_read());
        }
        if n == 0 {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(import.summary)
}
