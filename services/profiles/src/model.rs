//! The profile as this service keeps it, the consent rules, and the
//! conversion to the wire types.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_kit::domain::chrono_to_timestamp;
use rapport_proto::v1 as pb;
use uuid::Uuid;

/// An external identity: (source, external id), unique per tenant.
pub(crate) type IdentityKey = (String, String);

/// The fields a caller sets on a customer; what "unchanged" compares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields {
    pub display_name: String,
    pub kind: i32,
    pub email: String,
    pub phone: String,
    pub parent_id: Option<Uuid>,
    pub attributes: BTreeMap<String, String>,
}

/// Consent on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConsentState {
    pub channel: i32,
    pub granted: bool,
    pub granted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A request to grant or revoke consent on a channel at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConsentChange {
    pub channel: i32,
    pub granted: bool,
    pub at: DateTime<Utc>,
}

/// A consent that changed, as the audit trail records it: the customer, the
/// channel and granted before and after, nothing personal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConsentChanged {
    pub customer: Uuid,
    pub channel: i32,
    /// `None` when no consent was recorded on the channel before.
    pub before: Option<bool>,
    pub after: bool,
}

impl ConsentChanged {
    /// The change from `before` to `after` on `customer`.
    pub fn new(customer: Uuid, before: Option<&ConsentState>, after: &ConsentState) -> Self {
        ConsentChanged {
            customer,
            channel: after.channel,
            before: before.map(|c| c.granted),
            after: after.granted,
        }
    }

    /// The audit target: `customer:<id>/consent/<channel>`.
    pub fn target(&self) -> String {
        let channel = pb::Channel::try_from(self.channel)
            .map(|c| {
                c.as_str_name()
                    .trim_start_matches("CHANNEL_")
                    .to_lowercase()
            })
            .unwrap_or_else(|_| self.channel.to_string());
        format!("customer:{}/consent/{channel}", self.customer)
    }

    /// The audit summary: granted before and after.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "before": { "granted": self.before },
            "after": { "granted": self.after },
        })
    }
}

/// A stored customer with everything attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Customer {
    pub id: Uuid,
    pub fields: Fields,
    pub stub: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Sorted.
    pub identities: Vec<IdentityKey>,
    /// Sorted by channel.
    pub consents: Vec<ConsentState>,
}

impl Customer {
    /// A customer that exists only in memory yet.
    pub fn new(id: Uuid, fields: Fields, stub: bool, now: DateTime<Utc>) -> Customer {
        Customer {
            id,
            fields,
            stub,
            created_at: now,
            updated_at: now,
            identities: Vec::new(),
            consents: Vec::new(),
        }
    }

    /// The consent on `channel`, if one was ever recorded.
    pub fn consent(&self, channel: i32) -> Option<&ConsentState> {
        self.consents.iter().find(|c| c.channel == channel)
    }

    /// The wire form.
    pub fn into_proto(self) -> pb::Customer {
        pb::Customer {
            id: self.id.to_string(),
            display_name: self.fields.display_name,
            kind: self.fields.kind,
            email: self.fields.email,
            phone: self.fields.phone,
            parent_id: self
                .fields
                .parent_id
                .map(|p| p.to_string())
                .unwrap_or_default(),
            attributes: self.fields.attributes.into_iter().collect(),
            identities: self
                .identities
                .into_iter()
                .map(|(source, external_id)| pb::ExternalIdentity {
                    source,
                    external_id,
                })
                .collect(),
            consents: self
                .consents
                .into_iter()
                .map(ConsentState::into_proto)
                .collect(),
            stub: self.stub,
            created_at: Some(chrono_to_timestamp(self.created_at)),
            updated_at: Some(chrono_to_timestamp(self.updated_at)),
        }
    }
}

impl ConsentState {
    /// The wire form.
    pub fn into_proto(self) -> pb::Consent {
        pb::Consent {
            channel: self.channel,
            granted: self.granted,
            granted_at: self.granted_at.map(chrono_to_timestamp),
            revoked_at: self.revoked_at.map(chrono_to_timestamp),
        }
    }
}

/// The consent after `change`, or `None` when it changes nothing: granting
/// what is granted keeps the original grant time, revoking what is revoked
/// keeps the original revoke time, so repeating a request is harmless.
pub(crate) fn apply_consent(
    current: Option<&ConsentState>,
    change: ConsentChange,
) -> Option<ConsentState> {
    match (current, change.granted) {
        (Some(c), true) if c.granted => None,
        (Some(c), false) if !c.granted => None,
        (_, true) => Some(ConsentState {
            channel: change.channel,
            granted: true,
            granted_at: Some(change.at),
            revoked_at: None,
        }),
        (current, false) => Some(ConsentState {
            channel: change.channel,
            granted: false,
            // The last grant stays visible next to its revocation.
            granted_at: current.and_then(|c| c.granted_at),
            revoked_at: Some(change.at),
        }),
    }
}

/// Applies `changes` in order to `current`; returns the final state of every
/// channel that changed, sorted by channel.
pub(crate) fn apply_consents(
    current: &[ConsentState],
    changes: &[ConsentChange],
) -> Vec<ConsentState> {
    let mut state: BTreeMap<i32, ConsentState> = current.iter().map(|c| (c.channel, *c)).collect();
    let mut changed = std::collections::BTreeSet::new();
    for change in changes {
        if let Some(next) = apply_consent(state.get(&change.channel), *change) {
            state.insert(change.channel, next);
            changed.insert(change.channel);
        }
    }
    changed
        .into_iter()
        .filter_map(|ch| state.get(&ch).copied())
        .collect()
}

/// Id of a customer created for an identity (by an import or as a stub), so
/// every replica and every retry arrives at the same customer.
pub(crate) fn identity_customer_id(tenant: Uuid, key: &IdentityKey) -> Uuid {
    Uuid::new_v5(&tenant, format!("identity:{}\0{}", key.0, key.1).as_bytes())
}

/// Id of a customer created through `CreateCustomer` with `request_id`.
pub(crate) fn request_customer_id(tenant: Uuid, request_id: &str) -> Uuid {
    Uuid::new_v5(&tenant, request_id.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, day, 0, 0, 0).unwrap()
    }

    fn change(granted: bool, day: u32) -> ConsentChange {
        ConsentChange {
            channel: 1,
            granted,
            at: at(day),
        }
    }

    #[test]
    fn granting_twice_keeps_the_first_grant() {
        let first = apply_consent(None, change(true, 1)).unwrap();
        assert_eq!(first.granted_at, Some(at(1)));
        assert_eq!(apply_consent(Some(&first), change(true, 2)), None);
    }

    #[test]
    fn revoke_then_regrant() {
        let granted = apply_consent(None, change(true, 1)).unwrap();
        let revoked = apply_consent(Some(&granted), change(false, 2)).unwrap();
        assert!(!revoked.granted);
        assert_eq!(
            (revoked.granted_at, revoked.revoked_at),
            (Some(at(1)), Some(at(2)))
        );
        assert_eq!(apply_consent(Some(&revoked), change(false, 3)), None);
        let again = apply_consent(Some(&revoked), change(true, 4)).unwrap();
        assert_eq!((again.granted_at, again.revoked_at), (Some(at(4)), None));
    }

    #[test]
    fn revoking_unknown_channel_records_it() {
        let revoked = apply_consent(None, change(false, 5)).unwrap();
        assert_eq!(
            (revoked.granted, revoked.granted_at, revoked.revoked_at),
            (false, None, Some(at(5)))
        );
    }

    #[test]
    fn consents_apply_in_order_and_report_only_changes() {
        let current = [apply_consent(None, change(true, 1)).unwrap()];
        assert!(apply_consents(&current, &[change(true, 3)]).is_empty());
        let out = apply_consents(&current, &[change(false, 2), change(true, 3)]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].granted_at, Some(at(3)));
    }

    #[test]
    fn deterministic_ids() {
        let t = Uuid::new_v4();
        let k = ("erp".to_owned(), "C-1".to_owned());
        assert_eq!(identity_customer_id(t, &k), identity_customer_id(t, &k));
        assert_ne!(
            identity_customer_id(t, &k),
            identity_customer_id(Uuid::new_v4(), &k)
        );
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        let other = ("erpC".to_owned(), "-1".to_owned());
        assert_ne!(identity_customer_id(t, &k), identity_customer_id(t, &other));
        assert_eq!(request_customer_id(t, "r1"), Uuid::new_v5(&t, b"r1"));
    }
}
