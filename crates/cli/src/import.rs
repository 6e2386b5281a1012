//! `rapport import customers|transactions FILE`: CSV as an ERP exports it,
//! sent through the gRPC API in batches. Rows the client can already tell are
//! bad, and rows the server refuses, are reported with their line number;
//! everything else is committed. Re-running a file changes nothing: customers
//! are keyed by their identity, transactions by (source, transaction id).

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use rapport_kit::domain::{CurrencyCode, chrono_to_timestamp, parse_amount_decimal};
use rapport_proto::v1::{
    Channel, Consent, CustomerKind, CustomerRecord, ExternalIdentity, IngestTransactionsRequest,
    RowError, Transaction, TransactionKind, UpsertCustomersRequest, transaction,
};

use crate::client::Clients;

/// Options shared by both imports.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Source system name used when the file has no `source` column.
    pub source: String,
    /// Rows per request.
    pub batch_size: usize,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            source: "erp".to_owned(),
            batch_size: 1000,
            progress: false,
        }
    }
}

/// What is wrong with a row: (column, reason) for every column that is.
type Problems = Vec<(String, String)>;

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

    fn absorb_rejections(&mut self, errors: &[RowError], lines: &[u64]) {
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

const CUSTOMER_COLUMNS: &[&str] = &[
    "source",
    "customer_id",
    "name",
    "kind",
    "email",
    "phone",
    "parent_id",
    "consent_email",
    "consent_sms",
    "consent_webhook",
];

/// What the server said about one batch.
struct BatchOutcome {
    stored: u32,
    updated: u32,
    unchanged: u32,
    customers_created: u32,
    rejected: Vec<RowError>,
}

/// Reads `path` row by row, turns each row into a request item with `parse`
/// (refusing what the client can already tell is bad), and hands batches to
/// `send`, which returns the server's verdict.
async fn import_file<T>(
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
            let outcome = send(std::mem::take(&mut batch)).await?;
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

/// Imports customers. Columns: `customer_id` (required), `source`, `name`,
/// `kind` (person, business, intermediary), `email`, `phone`, `parent_id`
/// (the parent account's customer_id), `consent_email`, `consent_sms`,
/// `consent_webhook` (yes/no); every other column becomes an attribute.
pub async fn import_customers(
    clients: &mut Clients,
    path: &Path,
    opts: &ImportOptions,
) -> anyhow::Result<ImportSummary> {
    let now = Utc::now();
    let parse = |row: &Row<'_>| customer_record(row, &opts.source, now);
    import_file(
        path,
        &["customer_id"],
        opts,
        "customers",
        parse,
        async |customers| {
            let resp = clients
                .profiles
                .upsert_customers(UpsertCustomersRequest { customers })
                .await
                .map_err(|s| {
                    anyhow::anyhow!("UpsertCustomers failed: {}: {}", s.code(), s.message())
                })?
                .into_inner();
            Ok(BatchOutcome {
                stored: resp.created,
                updated: resp.updated,
                unchanged: resp.unchanged,
                customers_created: 0,
                rejected: resp.rejected,
            })
        },
    )
    .await
}

fn customer_record(
    row: &Row<'_>,
    default_source: &str,
    now: DateTime<Utc>,
) -> Result<CustomerRecord, Problems> {
    let mut problems = Problems::new();
    let (headers, record) = (row.headers, row.record);
    let mut cols: BTreeMap<&str, &str> = BTreeMap::new();
    let mut attributes = std::collections::HashMap::new();
    for (h, v) in headers.iter().zip(record.iter()) {
        if CUSTOMER_COLUMNS.contains(&h.as_str()) {
            cols.insert(h.as_str(), v);
        } else if !v.is_empty() {
            attributes.insert(h.clone(), v.to_owned());
        }
    }
    let col = |c: &str| cols.get(c).copied().unwrap_or("");
    let source = if col("source").is_empty() {
        default_source
    } else {
        col("source")
    };
    let kind = match col("kind").to_ascii_lowercase().as_str() {
        "" => CustomerKind::Unspecified,
        "person" | "consumer" | "b2c" => CustomerKind::Person,
        "business" | "company" | "b2b" => CustomerKind::Business,
        "intermediary" | "broker" | "reseller" | "agent" => CustomerKind::Intermediary,
        other => {
            problems.push((
                "kind".into(),
                format!("{other:?} is not one of person, business, intermediary"),
            ));
            CustomerKind::Unspecified
        }
    };
    let mut consents = Vec::new();
    for (column, channel) in [
        ("consent_email", Channel::Email),
        ("consent_sms", Channel::Sms),
        ("consent_webhook", Channel::Webhook),
    ] {
        let granted = match col(column).to_ascii_lowercase().as_str() {
            "" => continue,
            "yes" | "y" | "true" | "1" | "granted" => true,
            "no" | "n" | "false" | "0" | "revoked" => false,
            other => {
                problems.push((column.into(), format!("{other:?} is not yes or no")));
                continue;
            }
        };
        let at = Some(chrono_to_timestamp(now));
        consents.push(Consent {
            channel: channel as i32,
            granted,
            granted_at: if granted { at } else { None },
            revoked_at: if granted { None } else { at },
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(CustomerRecord {
        identity: Some(ExternalIdentity {
            source: source.to_owned(),
            external_id: col("customer_id").to_owned(),
        }),
        display_name: col("name").to_owned(),
        kind: kind as i32,
        email: col("email").to_owned(),
        phone: col("phone").to_owned(),
        parent_external_id: col("parent_id").to_owned(),
        attributes,
        consents,
    })
}

/// Imports transactions. Columns: `transaction_id` and `customer_id`
/// (required), `source`, `kind` (purchase or refund; purchase when empty),
/// `occurred_at` (RFC 3339, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`, UTC),
/// `amount` (decimal in major units), `currency` (ISO 4217), `margin`, `cost`
/// (decimal, optional), `category`.
pub async fn import_transactions(
    clients: &mut Clients,
    path: &Path,
    opts: &ImportOptions,
) -> anyhow::Result<ImportSummary> {
    let required = [
        "transaction_id",
        "customer_id",
        "occurred_at",
        "amount",
        "currency",
    ];
    let parse = |row: &Row<'_>| transaction_row(row, &opts.source);
    import_file(
        path,
        &required,
        opts,
        "transactions",
        parse,
        async |transactions| {
            let resp = clients
                .ingestion
                .ingest_transactions(IngestTransactionsRequest { transactions })
                .await
                .map_err(|s| {
                    anyhow::anyhow!("IngestTransactions failed: {}: {}", s.code(), s.message())
                })?
                .into_inner();
            Ok(BatchOutcome {
                stored: resp.accepted,
                updated: 0,
                unchanged: resp.duplicates,
                customers_created: resp.customers_created,
                rejected: resp.rejected,
            })
        },
    )
    .await
}

/// One CSV record with its header, read by column name.
struct Row<'a> {
    headers: &'a [String],
    record: &'a csv::StringRecord,
}

impl<'a> Row<'a> {
    /// The value in `column`, empty when the file has no such column.
    fn get(&self, column: &str) -> &'a str {
        self.headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.record.get(i))
            .unwrap_or("")
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

/// Parses RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or `YYYY-MM-DD` (midnight UTC).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if text.is_empty() {
        return Err("required".to_owned());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Ok(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!(
        "{:?} is not a date (RFC 3339 or YYYY-MM-DD)",
        rapport_kit::domain::truncate(text, 40)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_three_shapes() {
        assert_eq!(
            parse_time("2026-03-01").unwrap().to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_time("2026-03-01 10:30:00").unwrap().to_rfc3339(),
            "2026-03-01T10:30:00+00:00"
        );
        assert_eq!(
            parse_time("2026-03-01T10:30:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2026-03-01T08:30:00+00:00"
        );
        assert!(parse_time("01/03/2026").is_err());
        assert_eq!(parse_time("").unwrap_err(), "required");
    }

    #[test]
    fn customer_rows_map_columns_and_attributes() {
        let headers: Vec<String> = ["customer_id", "name", "kind", "consent_email", "region"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let rec = csv::StringRecord::from(vec!["C1", "Ada", "business", "yes", "north"]);
        let row = |record| Row {
            headers: &headers,
            record,
        };
        let c = customer_record(&row(&rec), "erp", Utc::now()).unwrap();
        assert_eq!(c.identity.unwrap().external_id, "C1");
        assert_eq!(c.kind, CustomerKind::Business as i32);
        assert_eq!(
            c.attributes.get("region").map(String::as_str),
            Some("north")
        );
        assert!(c.consents[0].granted);
        let bad = csv::StringRecord::from(vec!["C1", "Ada", "alien", "", ""]);
        let problems = customer_record(&row(&bad), "erp", Utc::now()).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "kind");
        // Every bad column of a row at once.
        let worse = csv::StringRecord::from(vec!["C1", "Ada", "alien", "perhaps", ""]);
        let problems = customer_record(&row(&worse), "erp", Utc::now()).unwrap_err();
        let columns: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(columns, ["kind", "consent_email"]);
    }

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
        let record = csv::StringRecord::from(vec![
            "T1",
            "C1",
            "gift",
            "yesterday",
            "10.00",
            "EUR",
            "1.234",
        ]);
        let row = Row {
            headers: &headers,
            record: &record,
        };
        let problems = transaction_row(&row, "erp").unwrap_err();
        let columns: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(columns, ["kind", "occurred_at", "margin"], "{problems:?}");
        let record = csv::StringRecord::from(vec![
            "T1",
            "C1",
            "refund",
            "2026-01-02",
            "10.00",
            "EUR",
            "1.23",
        ]);
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
