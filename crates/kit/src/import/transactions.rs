//! Transaction rows: kind, time and the optional margin and cost are checked
//! here; the amount goes as written and the server checks it.

use rapport_proto::v1::{
    ExternalIdentity, IngestTransactionsRequest, IngestTransactionsResponse, Transaction,
    TransactionKind, transaction,
};

use super::{BatchOutcome, Kind, Problems, Row, RowOptions, time::parse_time};
use crate::domain::{CurrencyCode, chrono_to_timestamp, parse_amount_decimal};

/// Transactions. Columns: `transaction_id`, `customer_id`, `occurred_at`
/// (RFC 3339, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`, UTC), `amount` (decimal
/// in major units), `currency` (ISO 4217) (required), `source`, `kind`
/// (purchase or refund; purchase when empty), `margin`, `cost` (decimal,
/// optional), `category`. Sent with `IngestTransactions`, keyed by (source,
/// transaction id).
pub struct Transactions(pub RowOptions);

impl Kind for Transactions {
    type Item = Transaction;
    type Request = IngestTransactionsRequest;
    type Response = IngestTransactionsResponse;
    const WHAT: &'static str = "transactions";
    const REQUIRED: &'static [&'static str] = &[
        "transaction_id",
        "customer_id",
        "occurred_at",
        "amount",
        "currency",
    ];
    const PATH: &'static str = "/rapport.v1.IngestionService/IngestTransactions";
    const SERVICE: &'static str = "rapport.v1.IngestionService";

    fn parse(&self, row: &Row<'_>) -> Result<Transaction, Problems> {
        transaction_row(row, &self.0.source)
    }

    fn request(transactions: Vec<Transaction>) -> IngestTransactionsRequest {
        IngestTransactionsRequest { transactions }
    }

    fn outcome(resp: IngestTransactionsResponse) -> BatchOutcome {
        BatchOutcome {
            stored: resp.accepted,
            updated: 0,
            unchanged: resp.duplicates,
            customers_created: resp.customers_created,
            rejected: resp.rejected,
        }
    }
}

fn transaction_row(row: &Row<'_>, default_source: &str) -> Result<Transaction, Problems> {
    let mut problems = Problems::new();
    let col = |c: &str| row.get(c);
    let source = if col("source").is_empty() {
        default_source
    } else {
        col("source")
    };
    let kind = match col("kind").to_ascii_lowercase().as_str() {
        "" | "purchase" | "sale" | "order" => TransactionKind::Purchase,
        "refund" | "return" | "credit" => TransactionKind::Refund,
        other => {
            problems.push((
                "kind".into(),
                format!("{other:?} is not purchase or refund"),
            ));
            TransactionKind::Purchase
        }
    };
    let occurred_at = parse_time(col("occurred_at"))
        .map_err(|r| problems.push(("occurred_at".to_owned(), r)))
        .ok();
    let currency = col("currency").to_ascii_uppercase();
    // Margin and cost are converted here, so they need the currency; the
    // amount goes as written and the server checks it (and the currency).
    let needs_code = !col("margin").is_empty() || !col("cost").is_empty();
    let code = if needs_code {
        CurrencyCode::parse(&currency)
            .map_err(|r| problems.push(("currency".to_owned(), r)))
            .ok()
    } else {
        None
    };
    let mut minor = |column: &str| -> Option<i64> {
        let text = col(column);
        match (text.is_empty(), code) {
            (true, _) | (false, None) => None,
            (false, Some(code)) => parse_amount_decimal(text, code)
                .map_err(|r| problems.push((column.to_owned(), r)))
                .ok(),
        }
    };
    let (margin_minor, cost_minor) = (minor("margin"), minor("cost"));
    let Some(occurred_at) = occurred_at.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    Ok(Transaction {
        source: source.to_owned(),
        external_id: col("transaction_id").to_owned(),
        customer: Some(ExternalIdentity {
            source: String::new(),
            external_id: col("customer_id").to_owned(),
        }),
        customer_id: String::new(),
        kind: kind as i32,
        occurred_at: Some(chrono_to_timestamp(occurred_at)),
        currency_code: currency.clone(),
        amount: Some(transaction::Amount::AmountDecimal(col("amount").to_owned())),
        margin_minor,
        cost_minor,
        category: col("category").to_owned(),
        id: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_row_reports_every_bad_column() {
        let headers: Vec<String> = [
            "transaction_id",
            "customer_id",
            "kind",
            "occurred_at",
            "amount",
            "currency",
            "margin",
        ]
        .map(String::from)
        .to_vec();
        let record: Vec<String> = ["T1", "C1", "gift", "yesterday", "10.00", "EUR", "1.234"]
            .map(String::from)
            .to_vec();
        let row = Row {
            headers: &headers,
            record: &record,
        };
        let problems = transaction_row(&row, "erp").unwrap_err();
        let columns: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(columns, ["kind", "occurred_at", "margin"], "{problems:?}");
        let record: Vec<String> = ["T1", "C1", "refund", "2026-01-02", "10.00", "EUR", "1.23"]
            .map(String::from)
            .to_vec();
        let ok = transaction_row(
            &Row {
                headers: &headers,
                record: &record,
            },
            "erp",
        )
        .unwrap();
        assert_eq!(ok.kind, TransactionKind::Refund as i32);
        assert_eq!(ok.margin_minor, Some(123));
    }
}
