//! Validation of one opportunity event row.

use chrono::{DateTime, Utc};
use rapport_kit::domain::{self, CurrencyCode};
use rapport_proto::v1::{Money, OpportunityEvent, OpportunityEventKind, RowError};

use super::{CustomerRef, Row, given, start};

/// Longest stage name, in bytes.
const MAX_STAGE_LEN: usize = 128;

/// What an opportunity event carries besides the fields every row shares.
#[derive(Debug, Clone)]
pub(crate) struct OpportunityBody {
    /// The opportunity's id in the row's source.
    pub opportunity_ref: String,
    /// created, stage_changed, won or lost.
    pub kind: &'static str,
    /// Empty for a won or lost event that names none.
    pub stage: String,
    /// In the tenant's currency.
    pub amount_minor: Option<i64>,
    pub expected_close: Option<DateTime<Utc>>,
}

/// A validated opportunity event whose account is not resolved yet.
pub(crate) type PendingOpportunityEvent = Row<CustomerRef, OpportunityBody>;

/// Validates row `index`; amounts must be in `currency`, the tenant's.
pub(crate) fn validate(
    index: u32,
    e: OpportunityEvent,
    currency: CurrencyCode,
    now: DateTime<Utc>,
) -> Result<PendingOpportunityEvent, Vec<RowError>> {
    let (opportunity_ref, kind, stage) = (e.opportunity_id, e.kind, e.stage);
    let (amount, expected_close) = (e.amount, e.expected_close);
    let (mut check, common) = start("events", index, given!(e), now);
    let opportunity_ok = check.check(
        "opportunity_id",
        domain::parse_id(&opportunity_ref).map(|_| ()),
    );
    let kind = check.check("kind", kind_name(kind));
    let needs_stage = matches!(kind, Some("created" | "stage_changed"));
    let stage_ok = check.check("stage", stage_check(&stage, needs_stage));
    let amount = check.check(
        "amount",
        amount_check(amount.as_ref(), currency, kind == Some("created")),
    );
    let expected_close = check.check(
        "expected_close",
        expected_close
            .as_ref()
            .map(domain::timestamp_to_chrono)
            .transpose(),
    );
    match (
        common,
        opportunity_ok,
        kind,
        stage_ok,
        amount,
        expected_close,
    ) {
        (Some(c), Some(()), Some(kind), Some(()), Some(amount_minor), Some(expected_close))
            if !check.failed() =>
        {
            let body = OpportunityBody {
                opportunity_ref,
                kind,
                stage,
                amount_minor,
                expected_close,
            };
            Ok(c.into_row(index, body))
        }
        _ => Err(check.refusal()),
    }
}

fn kind_name(kind: i32) -> Result<&'static str, String> {
    match OpportunityEventKind::try_from(kind) {
        Ok(OpportunityEventKind::Created) => Ok("created"),
        Ok(OpportunityEventKind::StageChanged) => Ok("stage_changed"),
        Ok(OpportunityEventKind::Won) => Ok("won"),
        Ok(OpportunityEventKind::Lost) => Ok("lost"),
        _ => Err("required: created, stage_changed, won or lost".to_owned()),
    }
}

fn stage_check(stage: &str, required: bool) -> Result<(), String> {
    if stage.is_empty() {
        return if required {
            Err("required for created and stage_changed events".to_owned())
        } else {
            Ok(())
        };
    }
    domain::check_text(stage, MAX_STAGE_LEN).map(|_| ())
}

fn amount_check(
    amount: Option<&Money>,
    currency: CurrencyCode,
    required: bool,
) -> Result<Option<i64>, String> {
    let Some(m) = amount else {
        return if required {
            Err("required for created events".to_owned())
        } else {
            Ok(None)
        };
    };
    if m.currency_code != currency.as_str() {
        return Err(format!(
            "currency {:?} is not the tenant's currency {currency}",
            domain::truncate(&m.currency_code, 8)
        ));
    }
    domain::parse_amount_minor(m.minor_units).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::v1::ExternalIdentity;

    fn eur() -> CurrencyCode {
        CurrencyCode::parse("EUR").unwrap()
    }

    fn good() -> OpportunityEvent {
        OpportunityEvent {
            source: "crm".into(),
            external_id: "OE-1".into(),
            customer: Some(ExternalIdentity {
                source: String::new(),
                external_id: "ACME".into(),
            }),
            opportunity_id: "O-1".into(),
            kind: OpportunityEventKind::Created as i32,
            stage: "qualify".into(),
            amount: Some(Money {
                currency_code: "EUR".into(),
                minor_units: 10_000,
            }),
            occurred_at: Some(domain::chrono_to_timestamp(Utc::now())),
            ..Default::default()
        }
    }

    fn fields(e: OpportunityEvent) -> Vec<String> {
        let errors = validate(3, e, eur(), Utc::now()).unwrap_err();
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_good_event_passes_and_bad_fields_are_named() {
        let row = validate(0, good(), eur(), Utc::now()).unwrap();
        assert_eq!(
            (row.body.kind, row.body.amount_minor),
            ("created", Some(10_000))
        );
        let bad = OpportunityEvent {
            opportunity_id: String::new(),
            kind: 0,
            stage: "x".repeat(200),
            amount: Some(Money {
                currency_code: "USD".into(),
                minor_units: 1,
            }),
            ..good()
        };
        assert_eq!(
            fields(bad),
            [
                "events[3].opportunity_id",
                "events[3].kind",
                "events[3].stage",
                "events[3].amount"
            ]
        );
        let no_stage = OpportunityEvent {
            stage: String::new(),
            amount: None,
            ..good()
        };
        assert_eq!(fields(no_stage), ["events[3].stage", "events[3].amount"]);
        // A close needs neither.
        let won = OpportunityEvent {
            kind: OpportunityEventKind::Won as i32,
            stage: String::new(),
            amount: None,
            ..good()
        };
        assert!(validate(0, won, eur(), Utc::now()).is_ok());
    }
}
