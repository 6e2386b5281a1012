//! Importing CSV as an ERP exports it, shared by `rapport import FILE` and
//! `POST /v1/import/...` on every service port: the columns of each kind of
//! file, the mapping of a row to the gRPC request item, the batching, and the
//! per-row report with file line numbers and CSV column names.
//!
//! [`Import`] is a state machine without I/O: it is fed bytes as they arrive
//! (a file read in chunks, an HTTP body frame by frame), parses them
//! incrementally, and hands back a [`Batch`] of valid rows whenever one is
//! full, so memory stays bounded by one batch whatever the file's size. The
//! caller sends the batch and gives the server's answer back with
//! [`ImportSummary::absorb`]. Re-sending a file changes nothing: customers are
//! keyed by their identity, transactions by (source, transaction id).

mod customers;
mod feed;
mod report;
mod time;
mod transactions;

use chrono::{DateTime, Utc};
use rapport_proto::v1::RowError;

pub use customers::Customers;
pub use feed::{Feed, FeedError};
pub use report::{ImportSummary, Rejection};
pub use time::parse_time;
pub use transactions::Transactions;

/// The most rows a batch may hold (`--batch-size`, `batch_size=`).
pub const MAX_BATCH: usize = 5000;

/// What is wrong with a row: (column, reason) for every column that is.
pub type Problems = Vec<(String, String)>;

/// One CSV record with its header, read by column name.
pub struct Row<'a> {
    /// The header row, trimmed and lowercased.
    pub headers: &'a [String],
    /// The record's fields, trimmed.
    pub record: &'a [String],
}

impl<'a> Row<'a> {
    /// The value in `column`, empty when the file has no such column.
    pub fn get(&self, column: &str) -> &'a str {
        self.headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.record.get(i))
            .map_or("", String::as_str)
    }
}

/// What the server said about one batch.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Rows newly stored.
    pub stored: u32,
    /// Customers whose stored values changed.
    pub updated: u32,
    /// Rows already stored exactly so.
    pub unchanged: u32,
    /// Stub customers created for unknown customer ids.
    pub customers_created: u32,
    /// Rows the server refused, by their index in the batch.
    pub rejected: Vec<RowError>,
}

/// A kind of import file: its columns, its rows' mapping to request items,
/// and the RPC that takes them.
pub trait Kind {
    /// What a row becomes.
    type Item: prost::Message + Clone + Send + 'static;
    /// The RPC's request.
    type Request: prost::Message + Send + 'static;
    /// The RPC's response.
    type Response: prost::Message + Default + Send + 'static;
    /// What the file holds ("customers").
    const WHAT: &'static str;
    /// The columns the header must have.
    const REQUIRED: &'static [&'static str];
    /// The gRPC path of the RPC that takes a batch.
    const PATH: &'static str;
    /// The service that serves [`Kind::PATH`].
    const SERVICE: &'static str;
    /// The row as a request item, or every problem it has.
    fn parse(&self, row: &Row<'_>) -> Result<Self::Item, Problems>;
    /// A batch as the RPC's request.
    fn request(items: Vec<Self::Item>) -> Self::Request;
    /// The RPC's answer as counts and refusals.
    fn outcome(response: Self::Response) -> BatchOutcome;
}

/// The row mapping's settings, as the CLI's flags or the HTTP query give them.
#[derive(Debug, Clone)]
pub struct RowOptions {
    /// Source system name used when the file has no `source` column.
    pub source: String,
    /// When consents given in the file are recorded as given.
    pub now: DateTime<Utc>,
}

/// Valid rows to send, with their file lines in the same order.
#[derive(Debug)]
pub struct Batch<T> {
    /// The request items.
    pub items: Vec<T>,
    /// The file line of each item.
    pub lines: Vec<u64>,
}

/// Why an import file could not be read on.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The header lacks a required column.
    #[error("the header row has no `{0}` column")]
    MissingColumn(&'static str),
    /// The CSV itself is broken.
    #[error(transparent)]
    Csv(#[from] FeedError),
}

/// An import in progress: fed bytes, it hands back full batches.
pub struct Import<K: Kind> {
    kind: K,
    feed: Feed,
    headers: Option<Vec<String>>,
    batch_size: usize,
    max_batch_bytes: usize,
    batch: Batch<K::Item>,
    batch_bytes: usize,
    /// What was read, stored and refused so far.
    pub summary: ImportSummary,
}

impl<K: Kind> Import<K> {
    /// An import sending `batch_size` rows at a time, and fewer when their
    /// encoding would pass `max_batch_bytes`; a row longer than `max_row`
    /// bytes is an error. The report lists at most `listed` problems.
    pub fn new(
        kind: K,
        batch_size: usize,
        max_batch_bytes: usize,
        max_row: usize,
        listed: usize,
    ) -> Self {
        Import {
            kind,
            feed: Feed::new(max_row),
            headers: None,
            batch_size: batch_size.max(1),
            max_batch_bytes,
            batch: Batch {
                items: Vec::new(),
                lines: Vec::new(),
            },
            batch_bytes: 0,
            summary: ImportSummary::listing(listed),
        }
    }

    /// Bytes of the file read so far.
    pub fn bytes_read(&self) -> u64 {
        self.feed.bytes_read()
    }

    /// Reads rows from `input`, advancing it, until a batch is full (which is
    /// returned: send it, then call again with the rest of the input) or the
    /// input is used up (`None`).
    pub fn feed(&mut self, input: &mut &[u8]) -> Result<Option<Batch<K::Item>>, ImportError> {
        self.read(input, false)
    }

    /// Reads what is left once the input has ended: a batch while there are
    /// rows to send, then `None`.
    pub fn finish(&mut self) -> Result<Option<Batch<K::Item>>, ImportError> {
        if let Some(batch) = self.read(&mut &[][..], true)? {
            return Ok(Some(batch));
        }
        if self.headers.is_none() {
            return Err(ImportError::MissingColumn(K::REQUIRED[0]));
        }
        Ok(self.take())
    }

    fn read(
        &mut self,
        input: &mut &[u8],
        end: bool,
    ) -> Result<Option<Batch<K::Item>>, ImportError> {
        while let Some((line, record)) = self.feed.next(input, end)? {
            let Some(headers) = &self.headers else {
                let headers: Vec<String> = record.iter().map(|h| h.to_ascii_lowercase()).collect();
                if let Some(c) = K::REQUIRED
                    .iter()
                    .find(|c| !headers.iter().any(|h| h == *c))
                {
                    return Err(ImportError::MissingColumn(c));
                }
                self.headers = Some(headers);
                continue;
            };
            if record.len() != headers.len() {
                return Err(FeedError::Fields {
                    line,
                    found: record.len(),
                    header: headers.len(),
                }
                .into());
            }
            self.summary.rows += 1;
            let row = Row {
                headers,
                record: &record,
            };
            match self.kind.parse(&row) {
                Ok(item) => {
                    let size = prost::Message::encoded_len(&item) + 8;
                    let full = !self.batch.items.is_empty()
                        && self.batch_bytes + size > self.max_batch_bytes;
                    let taken = if full { self.take() } else { None };
                    self.batch_bytes += size;
                    self.batch.items.push(item);
                    self.batch.lines.push(line);
                    if taken.is_some() {
                        return Ok(taken);
                    }
                    if self.batch.items.len() >= self.batch_size {
                        return Ok(self.take());
                    }
                }
                Err(problems) => self.summary.reject_row(line, problems),
            }
        }
        Ok(None)
    }

    fn take(&mut self) -> Option<Batch<K::Item>> {
        if self.batch.items.is_empty() {
            return None;
        }
        self.batch_bytes = 0;
        Some(std::mem::replace(
            &mut self.batch,
            Batch {
                items: Vec::with_capacity(self.batch_size.min(1024)),
                lines: Vec::with_capacity(self.batch_size.min(1024)),
            },
        ))
    }
}

#[cfg(test)]
mod tests;
