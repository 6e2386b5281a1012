//! What a call's applied changes earn and take back under a tenant's
//! programme: an accrual per purchase, a reversal per refund (keyed by the
//! change's own id, so each is written once), a welcome bonus before a
//! customer's first accrual. Posted in the transaction that applies them.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use super::{
    ledger::{Kind, NewEntry},
    store::Programme,
};
use crate::{
    aggregates::changes::{Change, ChangeKind},
    repo::StoredScore,
};

/// The tier a stored score shows now.
pub type TierOf<'a> = dyn Fn(&StoredScore) -> String + Sync + 'a;

/// A programme applied to one call.
pub struct Accrue<'a> {
    pub programme: &'a Programme,
    pub currency: &'a str,
    pub exponent: u8,
    /// Set when the programme has tier multipliers.
    pub tier: Option<&'a TierOf<'a>>,
}

impl Accrue<'_> {
    /// Whether the customers' scores before the call are needed (for their
    /// tiers).
    pub fn needs_old(&self) -> bool {
        self.tier.is_some()
    }

    /// Each customer's entries for `applied`, given the scores the
    /// customers had before the call (`old`).
    pub fn entries(
        &self,
        applied: &[&Change],
        old: &[StoredScore],
    ) -> BTreeMap<Uuid, Vec<NewEntry>> {
        let tiers: HashMap<Uuid, String> = match self.tier {
            Some(tier) => old.iter().map(|s| (s.row.customer_id, tier(s))).collect(),
            None => HashMap::new(),
        };
        let terms = &self.programme.terms;
        let mut out: BTreeMap<Uuid, Vec<NewEntry>> = BTreeMap::new();
        for c in applied {
            let (txn, kind) = match &c.kind {
                ChangeKind::Purchase(t) => (t, Kind::Accrual),
                ChangeKind::Refund(t) => (t, Kind::Reversal),
                ChangeKind::Interaction { .. } => continue,
            };
            // Purchases before the programme began earn nothing, and their
            // refunds take nothing back.
            if txn.at < self.programme.started_at {
                continue;
            }
            let tier = tiers.get(&c.customer_id).map_or("", String::as_str);
            let worth = terms.worth(
                txn.amount,
                self.exponent,
                self.currency,
                &txn.category,
                tier,
            );
            if worth.points == 0 {
                continue;
            }
            let reason = match kind {
                Kind::Reversal => format!("refund: {}", worth.reason),
                _ => worth.reason,
            };
            out.entry(c.customer_id).or_default().push(NewEntry {
                entry_id: c.id.clone(),
                kind,
                points: worth.points,
                occurred_at: txn.at,
                expires_at: match kind {
                    Kind::Accrual => terms.expiry(txn.at),
                    _ => None,
                },
                reason,
                request: String::new(),
            });
        }
        out
    }

    /// The welcome bonus made from a customer's first accrual, when the
    /// programme has one.
    pub fn welcome(&self, first: &NewEntry) -> Option<NewEntry> {
        let terms = &self.programme.terms;
        (terms.welcome_bonus > 0).then(|| NewEntry {
            entry_id: "welcome".to_owned(),
            kind: Kind::Welcome,
            points: terms.welcome_bonus,
            occurred_at: first.occurred_at,
            expires_at: terms.expiry(first.occurred_at),
            reason: "welcome bonus on the first purchase".to_owned(),
            request: String::new(),
        })
    }
}
