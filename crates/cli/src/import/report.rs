//! What an import did: counts, and every refused row with its line number,
//! whether the client or the server refused it, named by the CSV column the
//! user can find in the file.

use rapport_proto::v1::RowError;

/// A problem of a refused row (a row with several problems has several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// Column or field.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
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
    /// Problems of refused rows, in line order; a row with several problems
    /// has one entry for each.
    pub rejected: Vec<Rejection>,
}

impl ImportSummary {
    /// How many rows were refused.
    pub fn rejected_rows(&self) -> usize {
        let mut lines: Vec<u64> = self.rejected.iter().map(|r| r.line).collect();
        lines.dedup();
        lines.len()
    }

    /// Adds the server's refusals of a batch; `lines` are the file lines of
    /// the batch's rows, in the order they were sent.
    pub(super) fn absorb_rejections(&mut self, errors: &[RowError], lines: &[u64]) {
        for e in errors {
            let line = lines.get(e.index as usize).copied().unwrap_or(0);
            let field = e.field.split_once("].").map(|(_, f)| f).unwrap_or(&e.field);
            self.rejected.push(Rejection {
                line,
                field: csv_column(field).to_owned(),
                reason: e.reason.clone(),
            });
        }
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
