//! Validation of imported customer records, row by row: a bad row is
//! refused with the first thing wrong with it; the others go on.

use chrono::{DateTime, Utc};
use rapport_kit::{FieldErrors, domain};
use rapport_proto::v1 as pb;

use crate::{
    model::{ConsentChange, Fields, IdentityKey},
    validate::{self, Path},
};

/// Most records one `UpsertCustomers` call may carry.
pub(crate) const MAX_RECORDS: usize = 5_000;

/// A record that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// Position in the request.
    pub index: usize,
    pub key: IdentityKey,
    /// Everything but the parent, which is resolved against what is stored.
    pub fields: Fields,
    /// The parent's external id in the same source.
    pub parent: Option<String>,
    pub consents: Vec<ConsentChange>,
}

/// A refused row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub index: usize,
    /// Full path, e.g. `customers[3].email`.
    pub field: String,
    pub reason: String,
}

impl Rejection {
    /// The wire form; every refusal is bad input.
    pub fn into_proto(self) -> pb::RowError {
        pb::RowError {
            index: self.index as u32,
            field: self.field,
            reason: self.reason,
            code: tonic::Code::InvalidArgument as i32,
        }
    }
}

/// A validated import batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import {
    /// Rows in the request.
    pub total: usize,
    /// The rows that passed validation.
    pub records: Vec<Record>,
    /// The rows that did not.
    pub rejected: Vec<Rejection>,
}

/// Splits records into valid ones and refusals.
pub(crate) fn parse(records: Vec<pb::CustomerRecord>, now: DateTime<Utc>) -> Import {
    let total = records.len();
    let mut good = Vec::with_capacity(total);
    let mut bad = Vec::new();
    // Each decoded record is dropped once parsed, so a large batch is not
    // held twice.
    for (index, record) in records.into_iter().enumerate() {
        match parse_one(index, &record, now) {
            Ok(r) => good.push(r),
            Err(r) => bad.push(r),
        }
    }
    Import {
        total,
        records: good,
        rejected: bad,
    }
}

fn parse_one(
    index: usize,
    r: &pb::CustomerRecord,
    now: DateTime<Utc>,
) -> Result<Record, Rejection> {
    let prefix = format!("customers[{index}]");
    let mut errors = FieldErrors::new();
    let key = validate::identity(
        r.identity.as_ref(),
        &format!("{prefix}.identity"),
        &mut errors,
    );
    // The record carries the same fields as a customer; check them with the
    // same rules and paths.
    let as_customer = pb::Customer {
        display_name: r.display_name.clone(),
        kind: r.kind,
        email: r.email.clone(),
        phone: r.phone.clone(),
        attributes: r.attributes.clone(),
        ..Default::default()
    };
    let mut fields = Fields::default();
    let paths = [
        Path::DisplayName,
        Path::Kind,
        Path::Email,
        Path::Phone,
        Path::Attributes,
    ];
    validate::fields(&as_customer, &paths, &prefix, &mut fields, &mut errors);
    let parent = if r.parent_external_id.is_empty() {
        None
    } else {
        errors
            .check(
                &format!("{prefix}.parent_external_id"),
                domain::parse_id(&r.parent_external_id),
            )
            .map(str::to_owned)
    };
    let consents = validate::consents(&r.consents, &format!("{prefix}.consents"), now, &mut errors);
    if let Some((field, reason)) = errors.violations().first() {
        return Err(Rejection {
            index,
            field: field.clone(),
            reason: reason.clone(),
        });
    }
    let key = key.ok_or_else(|| Rejection {
        index,
        field: format!("{prefix}.identity"),
        reason: "required".into(),
    })?;
    Ok(Record {
        index,
        key,
        fields,
        parent,
        consents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::MAX_CONSENTS;

    fn record(ext: &str) -> pb::CustomerRecord {
        pb::CustomerRecord {
            identity: Some(pb::ExternalIdentity {
                source: "erp".into(),
                external_id: ext.into(),
            }),
            display_name: "Acme AG".into(),
            ..Default::default()
        }
    }

    #[test]
    fn first_violation_names_the_row_field() {
        let mut bad_email = record("2");
        bad_email.email = "nope".into();
        bad_email.phone = "123".into();
        let mut bad_consent = record("3");
        bad_consent.consents.push(pb::Consent {
            channel: 0,
            granted: true,
            ..Default::default()
        });
        let mut bad_parent = record("4");
        bad_parent.parent_external_id = "x".repeat(200);
        let Import {
            records: good,
            rejected: bad,
            ..
        } = parse(
            vec![record("1"), bad_email, bad_consent, bad_parent],
            Utc::now(),
        );
        assert_eq!(good.len(), 1);
        assert_eq!(good[0].key, ("erp".to_owned(), "1".to_owned()));
        let fields: Vec<_> = bad.iter().map(|r| (r.index, r.field.as_str())).collect();
        assert_eq!(
            fields,
            [
                (1, "customers[1].email"),
                (2, "customers[2].consents[0].channel"),
                (3, "customers[3].parent_external_id"),
            ]
        );
        assert_eq!(bad[0].clone().into_proto().code, 3);
    }

    #[test]
    fn consents_per_record_are_bounded() {
        let consent = pb::Consent {
            channel: 1,
            granted: true,
            granted_at: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            revoked_at: None,
        };
        let mut many = record("1");
        many.consents = vec![consent; MAX_CONSENTS + 1];
        let mut enough = record("2");
        enough.consents = many.consents[..MAX_CONSENTS].to_vec();
        let Import {
            records, rejected, ..
        } = parse(vec![many, enough], Utc::now());
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].key, ("erp".to_owned(), "2".to_owned()));
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].field, "customers[0].consents");
        assert!(
            rejected[0].reason.contains("at most 16"),
            "{}",
            rejected[0].reason
        );
    }

    #[test]
    fn missing_identity_is_refused() {
        let r = pb::CustomerRecord::default();
        let bad = parse(vec![r], Utc::now()).rejected;
        assert_eq!(bad[0].field, "customers[0].identity");
    }
}
