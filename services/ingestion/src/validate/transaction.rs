//! Validation of one transaction row.

use chrono::{DateTime, Utc};
use rapport_kit::domain::{self, CurrencyCode, MAX_AMOUNT_MINOR};
use rapport_proto::v1::{RowError, Transaction, TransactionKind, transaction::Amount};

use super::{CustomerRef, Row, given, start};

/// Longest category accepted, in bytes.
pub(crate) const MAX_CATEGORY_LEN: usize = 128;

/// Purchase or refund; never unspecified once validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Purchase,
    Refund,
}

impl Kind {
    /// As stored.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Purchase => "purchase",
            Kind::Refund => "refund",
        }
    }

    /// From its stored form.
    pub(crate) fn from_stored(s: &str) -> Option<Kind> {
        match s {
            "purchase" => Some(Kind::Purchase),
            "refund" => Some(Kind::Refund),
            _ => None,
        }
    }

    /// The contract's enum.
    pub(crate) fn to_proto(self) -> TransactionKind {
        match self {
            Kind::Purchase => TransactionKind::Purchase,
            Kind::Refund => TransactionKind::Refund,
        }
    }
}

/// What a transaction carries besides the fields every row shares.
#[derive(Debug, Clone)]
pub(crate) struct TxnBody {
    pub kind: Kind,
    pub amount_minor: i64,
    /// The request field the amount came in ("amount_minor",
    /// "amount_decimal"), to name if the amount is refused later.
    pub amount_field: &'static str,
    pub currency: CurrencyCode,
    pub margin_minor: Option<i64>,
    pub cost_minor: Option<i64>,
    pub category: String,
}

/// A validated transaction whose customer is not resolved yet.
pub(crate) type PendingTxn = Row<CustomerRef, TxnBody>;

/// Validates row `index`; `tenant_currency` is the only currency accepted,
/// and nothing dated before `oldest` is.
pub(crate) fn validate(
    index: u32,
    t: Transaction,
    tenant_currency: CurrencyCode,
    now: DateTime<Utc>,
    oldest: DateTime<Utc>,
) -> Result<PendingTxn, Vec<RowError>> {
    let (mut check, common) = start("transactions", index, given!(t), now);
    if let Some(c) = &common
        && c.occurred_at < oldest
    {
        check.fail(
            "occurred_at",
            format!(
                "{} is before {}, the oldest date accepted (ingest.oldest_transaction)",
                c.occurred_at.format("%Y-%m-%dT%H:%M:%SZ"),
                oldest.format("%Y-%m-%d")
            ),
        );
    }
    let kind = match TransactionKind::try_from(t.kind) {
        Ok(TransactionKind::Purchase) => Some(Kind::Purchase),
        Ok(TransactionKind::Refund) => Some(Kind::Refund),
        _ => {
            check.fail(
                "kind",
                "required: TRANSACTION_KIND_PURCHASE or TRANSACTION_KIND_REFUND",
            );
            None
        }
    };
    let currency = check.check("currency_code", currency(&t.currency_code, tenant_currency));
    // A decimal needs the currency's exponent; a bad code was reported above,
    // so the tenant's exponent serves to check the amount on its own merits.
    let exponent_of = currency.unwrap_or(tenant_currency);
    let amount = match &t.amount {
        Some(Amount::AmountMinor(m)) => check
            .check("amount_minor", domain::parse_amount_minor(*m))
            .map(|m| (m, "amount_minor")),
        Some(Amount::AmountDecimal(d)) => check
            .check(
                "amount_decimal",
                domain::parse_amount_decimal(d, exponent_of),
            )
            .map(|m| (m, "amount_decimal")),
        None => {
            check.fail("amount", "required: amount_minor or amount_decimal");
            None
        }
    };
    let margin = check.check(
        "margin_minor",
        t.margin_minor.map(bounded_signed).transpose(),
    );
    let cost = check.check(
        "cost_minor",
        t.cost_minor.map(domain::parse_amount_minor).transpose(),
    );
    let category = check.check(
        "category",
        domain::check_text(&t.category, MAX_CATEGORY_LEN).map(|_| ()),
    );
    // Rapport's id is set in responses only; whatever a caller echoes back
    // is ignored, as long as it is not a way to push oversized input.
    check.check(
        "id",
        domain::check_text(&t.id, domain::MAX_ID_LEN).map(|_| ()),
    );
    let failed = check.failed();
    match (common, kind, currency, amount, margin, cost, category) {
        (
            Some(c),
            Some(kind),
            Some(currency),
            Some((amount_minor, amount_field)),
            Some(margin_minor),
            Some(cost_minor),
            Some(()),
        ) if !failed => Ok(c.into_row(
            index,
            TxnBody {
                kind,
                amount_minor,
                amount_field,
                currency,
                margin_minor,
                cost_minor,
                category: t.category,
            },
        )),
        _ => Err(check.refusal()),
    }
}

/// The row's currency, which must be the one the tenant books in.
fn currency(code: &str, tenant: CurrencyCode) -> Result<CurrencyCode, String> {
    let parsed = CurrencyCode::parse(code)?;
    if parsed == tenant {
        Ok(parsed)
    } else {
        Err(format!(
            "{parsed} is not accepted: this tenant books in {tenant}"
        ))
    }
}

/// Margins may be negative (a sale at a loss) but are bounded like amounts.
fn bounded_signed(m: i64) -> Result<i64, String> {
    if m.unsigned_abs() > MAX_AMOUNT_MINOR as u64 {
        Err(format!(
            "{m} exceeds the largest accepted amount {MAX_AMOUNT_MINOR}"
        ))
    } else {
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::v1::ExternalIdentity;

    fn eur() -> CurrencyCode {
        CurrencyCode::parse("EUR").unwrap()
    }

    fn oldest() -> DateTime<Utc> {
        crate::config::IngestConfig::default().oldest()
    }

    fn good() -> Transaction {
        Transaction {
            source: "erp".into(),
            external_id: "T-1".into(),
            customer: Some(ExternalIdentity {
                source: String::new(),
                external_id: "C-1".into(),
            }),
            kind: TransactionKind::Purchase as i32,
            occurred_at: Some(domain::chrono_to_timestamp(Utc::now())),
            currency_code: "EUR".into(),
            amount: Some(Amount::AmountDecimal("12.34".into())),
            margin_minor: Some(-5),
            ..Default::default()
        }
    }

    /// The one field a row with one problem is refused for.
    fn field_of(t: Transaction) -> String {
        let errors = validate(7, t, eur(), Utc::now(), oldest()).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors[0].field.clone()
    }

    #[test]
    fn every_problem_of_a_row_is_reported_at_once() {
        let far = chrono::NaiveDate::from_ymd_opt(9999, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let errors = validate(
            3,
            Transaction {
                occurred_at: Some(domain::chrono_to_timestamp(far)),
                currency_code: "XXX".into(),
                amount: Some(Amount::AmountDecimal("12.345".into())),
                ..good()
            },
            eur(),
            Utc::now(),
            oldest(),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "transactions[3].occurred_at",
                "transactions[3].currency_code",
                "transactions[3].amount_decimal"
            ],
            "{errors:?}"
        );
        assert!(errors.iter().all(|e| e.index == 3 && e.code == 3));
    }

    #[test]
    fn rows_before_the_oldest_date_are_refused() {
        let epoch = Transaction {
            occurred_at: Some(domain::chrono_to_timestamp(DateTime::UNIX_EPOCH)),
            ..good()
        };
        assert_eq!(field_of(epoch), "transactions[7].occurred_at");
    }

    #[test]
    fn a_good_row_passes() {
        let row = validate(0, good(), eur(), Utc::now(), oldest()).unwrap();
        assert_eq!(row.body.amount_minor, 1234);
        assert_eq!(row.body.margin_minor, Some(-5));
        assert_eq!(row.occurred_at.timestamp_subsec_nanos() % 1000, 0);
    }

    #[test]
    fn each_bad_field_is_named() {
        let wrong = validate(
            7,
            Transaction {
                currency_code: "USD".into(),
                ..good()
            },
            eur(),
            Utc::now(),
            oldest(),
        );
        let errors = wrong.unwrap_err();
        let e = &errors[0];
        assert_eq!(e.field, "transactions[7].currency_code");
        assert!(e.reason.contains("EUR"), "{}", e.reason);
        assert_eq!(
            field_of(Transaction { kind: 0, ..good() }),
            "transactions[7].kind"
        );
        assert_eq!(
            field_of(Transaction { kind: 9, ..good() }),
            "transactions[7].kind"
        );
        assert_eq!(
            field_of(Transaction {
                amount: None,
                ..good()
            }),
            "transactions[7].amount"
        );
        let nan = Transaction {
            amount: Some(Amount::AmountDecimal("NaN".into())),
            ..good()
        };
        assert_eq!(field_of(nan), "transactions[7].amount_decimal");
        let max = Transaction {
            amount: Some(Amount::AmountMinor(i64::MAX)),
            ..good()
        };
        assert_eq!(field_of(max), "transactions[7].amount_minor");
        assert_eq!(
            field_of(Transaction {
                margin_minor: Some(i64::MIN),
                ..good()
            }),
            "transactions[7].margin_minor"
        );
        assert_eq!(
            field_of(Transaction {
                cost_minor: Some(-1),
                ..good()
            }),
            "transactions[7].cost_minor"
        );
        assert_eq!(
            field_of(Transaction {
                category: "x".repeat(129),
                ..good()
            }),
            "transactions[7].category"
        );
        assert_eq!(
            field_of(Transaction {
                source: String::new(),
                ..good()
            }),
            "transactions[7].source"
        );
        assert_eq!(
            field_of(Transaction {
                occurred_at: None,
                ..good()
            }),
            "transactions[7].occurred_at"
        );
        let echoed = Transaction {
            id: "x".repeat(129),
            ..good()
        };
        assert_eq!(field_of(echoed), "transactions[7].id");
    }
}
