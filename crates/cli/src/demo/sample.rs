//! The demo's sample as an ERP would export it: one row per customer and
//! per transaction, written as CSV for `rapport import`.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// One customer row as an ERP exports it.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerRow {
    /// ERP customer number.
    pub customer_id: String,
    /// Person or company name.
    pub name: String,
    /// person, business or intermediary.
    pub kind: &'static str,
    /// Email address (example.com).
    pub email: String,
    /// Phone number.
    pub phone: String,
    /// Parent account or intermediary customer number.
    pub parent_id: String,
    /// yes or no.
    pub consent_email: &'static str,
    /// yes or no.
    pub consent_sms: &'static str,
    /// Sales region.
    pub region: &'static str,
    /// Industry, for businesses.
    pub industry: &'static str,
    /// Age band, for persons.
    pub age_band: &'static str,
    /// Estimated yearly spend in the category, in EUR.
    pub wallet_estimate: String,
    /// The habit the generator gave this customer (not a Rapport field).
    pub habit: &'static str,
}

/// One transaction row as an ERP exports it.
#[derive(Debug, Clone, Serialize)]
pub struct TransactionRow {
    /// ERP document number.
    pub transaction_id: String,
    /// ERP customer number.
    pub customer_id: String,
    /// purchase or refund.
    pub kind: &'static str,
    /// RFC 3339.
    pub occurred_at: String,
    /// EUR with two decimals.
    pub amount: String,
    /// Always EUR.
    pub currency: &'static str,
    /// Margin in EUR.
    pub margin: String,
    /// Product category.
    pub category: &'static str,
    #[serde(skip)]
    pub(super) cents: i64,
    #[serde(skip)]
    pub(super) refund: bool,
}

/// A generated sample.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Parents first, so every parent precedes its children.
    pub customers: Vec<CustomerRow>,
    /// In time order.
    pub transactions: Vec<TransactionRow>,
}

impl Sample {
    /// Writes both CSV files.
    pub fn write_csv(&self, customers: &Path, transactions: &Path) -> anyhow::Result<()> {
        write_rows(customers, &self.customers)?;
        write_rows(transactions, &self.transactions)
    }

    /// Purchases less refunds, in cents.
    pub fn net_spend_minor(&self) -> i64 {
        self.transactions
            .iter()
            .map(|t| if t.refund { -t.cents } else { t.cents })
            .sum()
    }

    /// Customers with at least one transaction.
    pub fn customers_with_transactions(&self) -> usize {
        let ids: std::collections::HashSet<&str> = self
            .transactions
            .iter()
            .map(|t| t.customer_id.as_str())
            .collect();
        ids.len()
    }
}

/// Writes `rows` to `path` as CSV.
fn write_rows<T: Serialize>(path: &Path, rows: &[T]) -> anyhow::Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    Ok(())
}
