//! Validation of one interaction event row.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_kit::domain;
use rapport_proto::v1::{InteractionEvent, RowError};

use super::{CustomerRef, Row, RowCheck, given, start};

/// Most properties one event may carry.
pub(crate) const MAX_PROPERTIES: usize = 50;
/// Longest property key, in bytes.
pub(crate) const MAX_KEY_LEN: usize = 64;
/// Longest property value, in bytes.
pub(crate) const MAX_VALUE_LEN: usize = 1024;
/// Longest event kind, in bytes.
const MAX_KIND_LEN: usize = 64;

/// What an event carries besides the fields every row shares.
#[derive(Debug, Clone)]
pub(crate) struct EventBody {
    /// Lowercase snake case.
    pub kind: String,
    /// The properties as a JSON object, keys sorted.
    pub properties: String,
}

/// A validated event whose customer is not resolved yet.
pub(crate) type PendingEvent = Row<CustomerRef, EventBody>;

/// Validates row `index`.
pub(crate) fn validate(
    index: u32,
    e: InteractionEvent,
    now: DateTime<Utc>,
) -> Result<PendingEvent, Vec<RowError>> {
    let (mut check, common) = start("events", index, given!(e), now);
    let kind = check.check("kind", kind(&e.kind).map(|_| ()));
    // Sorted, so the first violation reported and the stored JSON do not
    // depend on hash order.
    let properties: BTreeMap<String, String> = e.properties.into_iter().collect();
    let properties_ok = check_properties(&mut check, &properties);
    let failed = check.failed();
    match (common, kind, properties_ok) {
        (Some(c), Some(()), true) if !failed => {
            let properties = serde_json::to_string(&properties)
                .map_err(|_| vec![RowCheck::new("events", index).invalid()])?;
            let body = EventBody {
                kind: e.kind,
                properties,
            };
            Ok(c.into_row(index, body))
        }
        _ => Err(check.refusal()),
    }
}

/// `[a-z][a-z0-9_]{0,63}`.
fn kind(k: &str) -> Result<&str, String> {
    let shape = || {
        format!(
            "{:?} is not a lowercase snake_case kind like cart_abandoned (a letter, then letters, digits or _; at most {MAX_KIND_LEN})",
            domain::truncate(k, 32)
        )
    };
    let mut bytes = k.bytes();
    match bytes.next() {
        None => Err("required".to_owned()),
        Some(first) if !first.is_ascii_lowercase() => Err(shape()),
        Some(_) if k.len() > MAX_KIND_LEN => Err(shape()),
        Some(_) if !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') => {
            Err(shape())
        }
        Some(_) => Ok(k),
    }
}

fn check_properties(check: &mut RowCheck, properties: &BTreeMap<String, String>) -> bool {
    if properties.len() > MAX_PROPERTIES {
        check.fail(
            "properties",
            format!(
                "has {} entries; at most {MAX_PROPERTIES} are accepted",
                properties.len()
            ),
        );
        return false;
    }
    for (key, value) in properties {
        if key.is_empty() {
            check.fail("properties", "keys must not be empty");
            return false;
        }
        if let Err(reason) = domain::check_text(key, MAX_KEY_LEN) {
            // The key is not echoed into the path: it may be huge.
            check.fail("properties", format!("a key {reason}"));
            return false;
        }
        if let Err(reason) = domain::check_text(value, MAX_VALUE_LEN) {
            check.fail(&format!("properties[{key:?}]"), reason);
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::v1::ExternalIdentity;

    fn good() -> InteractionEvent {
        InteractionEvent {
            source: "web".into(),
            external_id: "E-1".into(),
            customer: Some(ExternalIdentity {
                source: String::new(),
                external_id: "C-1".into(),
            }),
            kind: "cart_abandoned".into(),
            occurred_at: Some(domain::chrono_to_timestamp(Utc::now())),
            properties: [
                ("b".to_owned(), "2".to_owned()),
                ("a".to_owned(), "1".to_owned()),
            ]
            .into(),
            ..Default::default()
        }
    }

    /// The one field an event with one problem is refused for.
    fn field_of(e: InteractionEvent) -> String {
        let errors = validate(4, e, Utc::now()).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors[0].field.clone()
    }

    #[test]
    fn a_good_event_passes_with_sorted_properties() {
        let row = validate(0, good(), Utc::now()).unwrap();
        assert_eq!(row.body.properties, r#"{"a":"1","b":"2"}"#);
    }

    #[test]
    fn kinds_are_snake_case() {
        for ok in ["visit", "email_opened", "a", "x1_2"] {
            assert!(kind(ok).is_ok(), "{ok}");
        }
        let long = format!("a{}", "b".repeat(64));
        for bad in [
            "",
            "Visit",
            "1visit",
            "_x",
            "cart-abandoned",
            "café",
            long.as_str(),
        ] {
            assert!(kind(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn properties_are_bounded() {
        let many = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(
            field_of(InteractionEvent {
                properties: many,
                ..good()
            }),
            "events[4].properties"
        );
        let long_key = [("k".repeat(65), "v".to_owned())].into();
        assert_eq!(
            field_of(InteractionEvent {
                properties: long_key,
                ..good()
            }),
            "events[4].properties"
        );
        let long_value = [("k".to_owned(), "v".repeat(1025))].into();
        assert_eq!(
            field_of(InteractionEvent {
                properties: long_value,
                ..good()
            }),
            "events[4].properties[\"k\"]"
        );
        assert_eq!(
            field_of(InteractionEvent {
                kind: "Visit".into(),
                ..good()
            }),
            "events[4].kind"
        );
    }
}
