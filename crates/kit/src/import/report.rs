//! What an import did: counts, and every refused row with its line number,
//! whether the client or the server refused it, named by the CSV column the
//! user can find in the file.

use rapport_proto::v1::RowError;
use serde::Serialize;

use super::{BatchOutcome, Problems};

/// A problem of a refused row (a row with several problems has several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// Column or field.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// Data rows read.
    pub rows: u64,
    /// Rows newly stored (customers created, transactions accepted).
    pub stored: u64,
    /// Customers whose stored values changed.
    pub updated: u64,
    /// Rows already stored exactly so (unchanged customers, duplicate transactions).
    pub unchanged: u64,
    /// Stub customers created for unknown customer ids in transactions.
    pub customers_created: u64,
    /// Rows refused, by the client or the server.
    rejected_rows: u64,
    /// Problems of refused rows, in line order; a row with several problems
    /// has one entry for each. At most the first `listed` problems.
    pub rejected: Vec<Rejection>,
    /// Whether problems were left out of `rejected`.
    pub rejected_truncated: bool,
    /// The line of the last row of the last batch the server took: every row
    /// up to it is stored or reported.
    pub last_line_stored: u64,
    #[serde(skip)]
    listed: usize,
}

impl Default for ImportSummary {
    fn default() -> Self {
        ImportSummary::listing(usize::MAX)
    }
}

impl ImportSummary {
    /// A summary listing at most `listed` problems.
    pub fn listing(listed: usize) -> Self {
        ImportSummary {
            rows: 0,
            stored: 0,
            updated: 0,
            unchanged: 0,
            customers_created: 0,
            rejected_rows: 0,
            rejected: Vec::new(),
            rejected_truncated: false,
            last_line_stored: 0,
            listed,
        }
    }

    /// How many rows were refused.
    pub fn rejected_rows(&self) -> u64 {
        self.rejected_rows
    }

    fn list(&mut self, rejection: Rejection) {
        if self.rejected.len() < self.listed {
            // Client refusals come before their batch's server refusals:
            // keep the list in line order as it grows.
            let at = self.rejected.partition_point(|r| r.line <= rejection.line);
            self.rejected.insert(at, rejection);
        } else {
            self.rejected_truncated = true;
        }
    }

    /// Records a row the client refused, with its problems.
    pub fn reject_row(&mut self, line: u64, problems: Problems) {
        self.rejected_rows += 1;
        for (field, reason) in problems {
            self.list(Rejection {
                line,
                field,
                reason,
            });
        }
    }

    /// Adds the server's answer to a batch; `lines` are the file lines of
    /// the batch's rows, in the order they were sent.
    pub fn absorb(&mut self, outcome: &BatchOutcome, lines: &[u64]) {
        self.stored += u64::from(outcome.stored);
        self.updated += u64::from(outcome.updated);
        self.unchanged += u64::from(outcome.unchanged);
        self.customers_created += u64::from(outcome.customers_created);
        let mut refused: Vec<u32> = outcome.rejected.iter().map(|e| e.index).collect();
        refused.sort_unstable();
        refused.dedup();
        self.rejected_rows += refused.len() as u64;
        for e in &outcome.rejected {
            self.list(rejection(e, lines));
        }
        if let Some(&last) = lines.last() {
            self.last_line_stored = last;
        }
    }
}

fn rejection(e: &RowError, lines: &[u64]) -> Rejection {
    let line = lines.get(e.index as usize).copied().unwrap_or(0);
    let field = e.field.split_once("].").map(|(_, f)| f).unwrap_or(&e.field);
    Rejection {
        line,
        field: csv_column(field).to_owned(),
        reason: e.reason.clone(),
    }
}

/// The CSV column a field of the gRPC request came from, so a rejected row
/// names what the user can find in the file.
fn csv_column(field: &str) -> &str {
    match field {
        "amount_decimal" | "amount_minor" | "amount" => "amount",
        "currency_code" => "currency",
        "external_id" => "transaction_id",
        "customer" | "customer.external_id" | "customer.source" => "customer_id",
        "identity" | "identity.external_id" => "customer_id",
        "identity.source" => "source",
        "display_name" => "name",
        "parent_external_id" => "parent_id",
        "margin_minor" => "margin",
        "cost_minor" => "cost",
        other => other,
    }
}
