//! CSV read incrementally: bytes go in as they arrive, whole records come
//! out with the line they start on. Quoted fields may hold commas, quotes
//! and newlines; a UTF-8 byte order mark is skipped; fields are trimmed.
//! Memory is one record, at most `max_row` bytes.

use csv_core::{ReadRecordResult, Reader};

/// Why the CSV could not be read on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// A record longer than the limit.
    #[error("line {line}: a row over {limit} bytes")]
    TooLong {
        /// The line the record starts on.
        line: u64,
        /// The limit.
        limit: usize,
    },
    /// A record that is not UTF-8.
    #[error("line {line}: the row is not UTF-8")]
    Utf8 {
        /// The line the record starts on.
        line: u64,
    },
    /// A record with another number of fields than the header.
    #[error("line {line}: found a row with {found} fields, but the header has {header}")]
    Fields {
        /// The line the record starts on.
        line: u64,
        /// Fields in the record.
        found: usize,
        /// Fields in the header.
        header: usize,
    },
}

impl FeedError {
    /// The line the error is on.
    pub fn line(&self) -> u64 {
        match self {
            FeedError::TooLong { line, .. }
            | FeedError::Utf8 { line }
            | FeedError::Fields { line, .. } => *line,
        }
    }
}

/// An incremental CSV reader.
pub struct Feed {
    core: Reader,
    out: Vec<u8>,
    outlen: usize,
    ends: Vec<usize>,
    endlen: usize,
    /// The line the record being read starts on (the header is line 1).
    line: u64,
    max_row: usize,
    bytes: u64,
    done: bool,
    /// The first bytes, held until it is known whether they are a byte
    /// order mark (the reader only skips one that arrives whole).
    head: Option<Vec<u8>>,
    /// Bytes of the head still to read.
    pending: Vec<u8>,
}

const BOM: &[u8] = b"\xef\xbb\xbf";

impl Feed {
    /// A reader refusing records over `max_row` bytes.
    pub fn new(max_row: usize) -> Self {
        Feed {
            core: Reader::new(),
            out: vec![0; 1024.min(max_row.max(1))],
            outlen: 0,
            ends: vec![0; 32],
            endlen: 0,
            line: 1,
            max_row: max_row.max(1),
            bytes: 0,
            done: false,
            head: Some(Vec::with_capacity(BOM.len())),
            pending: Vec::new(),
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The next whole record in `input` (advanced past it) with its line, or
    /// `None` once `input` is used up; `end` says no more input follows, and
    /// then `None` means the file is over.
    pub fn next(
        &mut self,
        input: &mut &[u8],
        end: bool,
    ) -> Result<Option<(u64, Vec<String>)>, FeedError> {
        if let Some(head) = &mut self.head {
            let take = (BOM.len() - head.len()).min(input.len());
            head.extend_from_slice(&input[..take]);
            *input = &input[take..];
            if head.len() < BOM.len() && !end {
                return Ok(None);
            }
            let head = self.head.take().unwrap_or_default();
            let rest = head.strip_prefix(BOM).unwrap_or(&head);
            self.bytes += (head.len() - rest.len()) as u64;
            self.pending = rest.to_vec();
        }
        loop {
            let from_head = !self.pending.is_empty();
            let src: &[u8] = if from_head { &self.pending } else { input };
            // An empty input tells the reader the file is over: only at the end.
            if self.done || (src.is_empty() && !end) {
                return Ok(None);
            }
            let (res, nin, nout, nend) = self.core.read_record(
                src,
                &mut self.out[self.outlen..],
                &mut self.ends[self.endlen..],
            );
            // A record ends at the `\r` of a `\r\n`; the `\n` that the
            // reader counts lines by is read with the next record.
            let cr = nin > 0 && src[nin - 1] == b'\r';
            if from_head {
                self.pending.drain(..nin);
            } else {
                *input = &input[nin..];
            }
            self.bytes += nin as u64;
            self.outlen += nout;
            self.endlen += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if self.out.len() >= self.max_row {
                        return Err(FeedError::TooLong {
                            line: self.line,
                            limit: self.max_row,
                        });
                    }
                    let len = (self.out.len() * 2).min(self.max_row);
                    self.out.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    // A field is at least its separator: as many as bytes.
                    if self.ends.len() > self.max_row {
                        return Err(FeedError::TooLong {
                            line: self.line,
                            limit: self.max_row,
                        });
                    }
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::Record => return self.record(cr).map(Some),
                ReadRecordResult::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }

    fn record(&mut self, cr: bool) -> Result<(u64, Vec<String>), FeedError> {
        let line = self.line;
        let mut fields = Vec::with_capacity(self.endlen);
        let mut start = 0;
        for &end in &self.ends[..self.endlen] {
            let text =
                std::str::from_utf8(&self.out[start..end]).map_err(|_| FeedError::Utf8 { line })?;
            fields.push(text.trim().to_owned());
            start = end;
        }
        self.outlen = 0;
        self.endlen = 0;
        self.line = self.core.line() + u64::from(cr);
        Ok((line, fields))
    }
}
