//! Per-row validation at the edge: each incoming row becomes either a [`Row`]
//! the repository can write without re-checking, or a `RowError` naming the first
//! bad field. One bad row never spoils the rest of its batch.

mod check;
pub(crate) mod event;
pub(crate) mod opportunity;
pub(crate) mod transaction;

pub(crate) use check::{RowCheck, row_error};

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rapport_kit::domain;
use rapport_proto::v1::ExternalIdentity;
use uuid::Uuid;

/// Most rows one message may carry; past it the whole call is refused, so a
/// single request cannot pin unbounded memory and time.
pub(crate) const MAX_BATCH_ROWS: usize = 10_000;

/// The customer a row belongs to, as the caller named them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CustomerRef {
    /// A Rapport customer id, which must exist.
    Id(Uuid),
    /// An identity in a source system, resolved (or created) through Profiles.
    External { source: String, external_id: String },
}

/// A validated row. `C` is the customer as named ([`CustomerRef`]) before
/// resolution and the customer id after it.
#[derive(Debug, Clone)]
pub(crate) struct Row<C, T> {
    /// Position in the request (across all messages of a stream).
    pub index: u32,
    /// Rapport's id for the row, used if it turns out to be new.
    pub id: Uuid,
    pub source: String,
    pub external_id: String,
    pub customer: C,
    /// Truncated to microseconds, the precision both stores keep, so what is
    /// stored and what scoring is told are the same instant.
    pub occurred_at: DateTime<Utc>,
    pub body: T,
}

impl<C, T> Row<C, T> {
    /// The same row for another customer representation.
    pub(crate) fn with_customer<D>(self, customer: D) -> Row<D, T> {
        Row {
            index: self.index,
            id: self.id,
            source: self.source,
            external_id: self.external_id,
            customer,
            occurred_at: self.occurred_at,
            body: self.body,
        }
    }
}

/// The validated identity fields every row shares.
pub(crate) struct Common {
    pub source: String,
    pub external_id: String,
    pub customer: CustomerRef,
    pub occurred_at: DateTime<Utc>,
}

impl Common {
    /// Row `index` with these fields and `body`, under a new id: a UUIDv7,
    /// so the id carries when it was minted. Scoring dates the change
    /// ("txn:<id>", "evt:<id>") by it to keep its dedupe rows in daily
    /// partitions, and the key indexes take new ids at their right end.
    pub(crate) fn into_row<T>(self, index: u32, body: T) -> Row<CustomerRef, T> {
        Row {
            index,
            id: Uuid::now_v7(),
            source: self.source,
            external_id: self.external_id,
            customer: self.customer,
            occurred_at: self.occurred_at,
            body,
        }
    }
}

/// The fields every row of a request carries, as given.
pub(crate) struct Given {
    pub source: String,
    pub external_id: String,
    pub customer_id: String,
    pub customer: Option<ExternalIdentity>,
    pub occurred_at: Option<prost_types::Timestamp>,
}

/// The [`Given`] fields moved out of a request row: transactions and events
/// name them alike, though no trait joins the two messages.
macro_rules! given {
    ($row:ident) => {
        $crate::validate::Given {
            source: $row.source,
            external_id: $row.external_id,
            customer_id: $row.customer_id,
            customer: $row.customer,
            occurred_at: $row.occurred_at,
        }
    };
}
pub(crate) use given;

/// Starts checking row `index` of `list` ("transactions", "events") with
/// the fields every row carries.
pub(crate) fn start(
    list: &str,
    index: u32,
    given: Given,
    now: DateTime<Utc>,
) -> (RowCheck, Option<Common>) {
    let mut check = RowCheck::new(list, index);
    let common = common(&mut check, given, now);
    (check, common)
}

/// Checks `source`, `external_id`, the customer and `occurred_at`.
fn common(check: &mut RowCheck, given: Given, now: DateTime<Utc>) -> Option<Common> {
    let Given {
        source,
        external_id,
        customer_id,
        customer,
        occurred_at,
    } = given;
    let occurred_at = occurred_at.as_ref();
    let source_ok = check
        .check("source", domain::parse_id(&source).map(|_| ()))
        .is_some();
    let external_ok = check.check("external_id", domain::parse_id(&external_id).map(|_| ()));
    let customer = customer_ref(check, &source, customer_id, customer);
    let occurred_at = check
        .check("occurred_at", domain::parse_event_time(occurred_at, now))
        .map(|t| domain::from_micros(domain::to_micros(t)));
    match (source_ok, external_ok, customer, occurred_at) {
        (true, Some(()), Some(customer), Some(occurred_at)) => Some(Common {
            source,
            external_id,
            customer,
            occurred_at,
        }),
        _ => None,
    }
}

/// A customer id wins over an external identity when both are given: it is
/// the more precise of the two.
fn customer_ref(
    check: &mut RowCheck,
    row_source: &str,
    customer_id: String,
    customer: Option<ExternalIdentity>,
) -> Option<CustomerRef> {
    if !customer_id.is_empty() {
        // The identity is not used then, but it is still input: nothing
        // oversized or malformed passes unremarked.
        if let Some(c) = &customer {
            let bounded = |v: &str| domain::check_text(v, domain::MAX_ID_LEN).map(|_| ());
            check.check("customer.source", bounded(&c.source));
            check.check("customer.external_id", bounded(&c.external_id));
        }
        return check
            .check("customer_id", domain::parse_uuid(&customer_id))
            .map(CustomerRef::Id);
    }
    let identity = customer.filter(|c| !c.external_id.is_empty());
    let Some(ExternalIdentity {
        source,
        external_id,
    }) = identity
    else {
        check.fail("customer", "required: customer_id or customer.external_id");
        return None;
    };
    let external_ok = check.check(
        "customer.external_id",
        domain::parse_id(&external_id).map(|_| ()),
    );
    let source = if source.is_empty() {
        row_source.to_owned()
    } else {
        check.check("customer.source", domain::parse_id(&source).map(|_| ()))?;
        source
    };
    external_ok?;
    // An empty row source was already reported against `source`.
    (!source.is_empty()).then_some(CustomerRef::External {
        source,
        external_id,
    })
}

/// Keeps the first row of each (source, external id); the later ones are
/// duplicates of it and counted as such.
pub(crate) fn dedupe<C, T>(rows: Vec<Row<C, T>>) -> (Vec<Row<C, T>>, u32) {
    let mut seen = HashSet::with_capacity(rows.len());
    let before = rows.len();
    let unique: Vec<_> = rows
        .into_iter()
        .filter(|r| seen.insert((r.source.clone(), r.external_id.clone())))
        .collect();
    let dups = (before - unique.len()) as u32;
    (unique, dups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(source: &str, id: &str) -> Option<ExternalIdentity> {
        Some(ExternalIdentity {
            source: source.into(),
            external_id: id.into(),
        })
    }

    #[test]
    fn customer_is_required_and_defaults_its_source() {
        let mut c = RowCheck::new("transactions", 2);
        assert_eq!(customer_ref(&mut c, "pos", String::new(), None), None);
        let e = &c.errors()[0];
        assert_eq!(
            (e.field.as_str(), e.index, e.code),
            ("transactions[2].customer", 2, 3)
        );

        let mut c = RowCheck::new("transactions", 0);
        let r = customer_ref(&mut c, "pos", String::new(), ident("", "C-1"));
        assert_eq!(
            r,
            Some(CustomerRef::External {
                source: "pos".into(),
                external_id: "C-1".into()
            })
        );

        let mut c = RowCheck::new("transactions", 0);
        assert_eq!(
            customer_ref(&mut c, "pos", "nope".into(), ident("", "C-1")),
            None
        );
        assert_eq!(c.errors()[0].field, "transactions[0].customer_id");

        let id = Uuid::new_v4();
        let mut c = RowCheck::new("transactions", 0);
        let r = customer_ref(&mut c, "pos", id.to_string(), ident("", "C-1"));
        assert_eq!(r, Some(CustomerRef::Id(id)));
        assert!(!c.failed());
        let mut c = RowCheck::new("transactions", 0);
        customer_ref(&mut c, "pos", id.to_string(), ident("", &"x".repeat(200)));
        assert_eq!(c.errors()[0].field, "transactions[0].customer.external_id");
    }

    #[test]
    fn dedupe_keeps_first_occurrence() {
        let row = |i: u32, key: &str| Row {
            index: i,
            id: Uuid::new_v4(),
            source: "erp".into(),
            external_id: key.into(),
            customer: (),
            occurred_at: Utc::now(),
            body: (),
        };
        let (rows, dups) = dedupe(vec![row(0, "a"), row(1, "b"), row(2, "a")]);
        assert_eq!(dups, 1);
        assert_eq!(rows.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1]);
    }
}
