//! Posting entries to one customer's ledger, as plain values: the balance
//! and totals they move, the lots earned points make, and the lots spending
//! uses up, oldest expiry first. The store loads the account and its lots
//! under the account's lock, posts, and writes back what changed.
//!
//! The invariant: the remaining points of a customer's lots add up to the
//! balance when it is positive, and to 0 when a refund left it owing (the
//! debt is paid from the next points earned before they make a lot).

use chrono::{DateTime, Utc};
use rapport_proto::v1::PointsEntryKind;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Accrual,
    Reversal,
    Redemption,
    Expiry,
    Adjustment,
    Welcome,
    Birthday,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Accrual => "accrual",
            Kind::Reversal => "reversal",
            Kind::Redemption => "redemption",
            Kind::Expiry => "expiry",
            Kind::Adjustment => "adjustment",
            Kind::Welcome => "welcome",
            Kind::Birthday => "birthday",
        }
    }

    pub fn parse(s: &str) -> Kind {
        match s {
            "accrual" => Kind::Accrual,
            "reversal" => Kind::Reversal,
            "redemption" => Kind::Redemption,
            "expiry" => Kind::Expiry,
            "welcome" => Kind::Welcome,
            "birthday" => Kind::Birthday,
            _ => Kind::Adjustment,
        }
    }

    pub fn to_proto(self) -> PointsEntryKind {
        match self {
            Kind::Accrual => PointsEntryKind::Accrual,
            Kind::Reversal => PointsEntryKind::Reversal,
            Kind::Redemption => PointsEntryKind::Redemption,
            Kind::Expiry => PointsEntryKind::Expiry,
            Kind::Adjustment => PointsEntryKind::Adjustment,
            Kind::Welcome => PointsEntryKind::WelcomeBonus,
            Kind::Birthday => PointsEntryKind::BirthdayBonus,
        }
    }
}

/// An entry to post. `points` is signed; a reversal's is what the refund is
/// worth, taken back at most up to what purchases earned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub entry_id: String,
    pub kind: Kind,
    pub points: i64,
    pub occurred_at: DateTime<Utc>,
    /// For points earned: when they expire.
    pub expires_at: Option<DateTime<Utc>>,
    pub reason: String,
    /// What a request asked (redemptions, adjustments), to tell a replay
    /// from a reused request id.
    pub request: String,
}

/// A customer's balance and totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub balance: i64,
    pub earned: i64,
    pub accrued: i64,
    pub reversed: i64,
    pub redeemed: i64,
    pub expired: i64,
    pub adjusted: i64,
    pub entries: i64,
    pub birthday_year: i32,
    pub welcomed: bool,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Points earned and not yet spent or expired, in spending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lot {
    pub seq: i64,
    pub remaining: i64,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Lot {
    /// Spending order: soonest expiry first, points kept forever last, then
    /// in order of earning.
    fn order(&self) -> (bool, Option<DateTime<Utc>>, i64) {
        (self.expires_at.is_none(), self.expires_at, self.seq)
    }
}

/// A ledger row to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub seq: i64,
    pub entry: NewEntry,
    pub balance_after: i64,
    pub remaining: i64,
}

/// Spending beyond the balance (a redemption or a negative adjustment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insufficient {
    pub asked: i64,
    pub balance: i64,
    /// Whether the customer had any points history.
    pub member: bool,
}

/// What posting changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Posting {
    pub rows: Vec<Row>,
    /// Lots whose remaining points changed, with the new figure.
    pub lots: Vec<Lot>,
    pub account: Account,
}

/// Posts `entries` in order to `account`, spending from `lots` (in spending
/// order). A redemption or a negative adjustment beyond the balance refuses
/// the whole posting.
pub fn post(
    account: &Account,
    lots: &[Lot],
    entries: Vec<NewEntry>,
    now: DateTime<Utc>,
) -> Result<Posting, Insufficient> {
    let mut a = account.clone();
    let mut lots: Vec<Lot> = lots.to_vec();
    lots.sort_by_key(Lot::order);
    let mut touched: Vec<i64> = Vec::new();
    let mut rows = Vec::with_capacity(entries.len());
    for mut e in entries {
        let spends_by_choice =
            matches!(e.kind, Kind::Redemption) || (e.kind == Kind::Adjustment && e.points < 0);
        if spends_by_choice && -e.points > a.balance {
            return Err(Insufficient {
                asked: -e.points,
                balance: a.balance,
                member: a.entries > 0,
            });
        }
        if e.kind == Kind::Reversal {
            let left = (a.accrued - a.reversed).max(0);
            let worth = e.points.abs();
            if worth > left {
                e.reason
                    .push_str(&format!("; {left} taken back, what purchases earned"));
            }
            e.points = -worth.min(left);
        }
        let mut remaining = 0;
        if e.points > 0 {
            // A debt is paid first; the rest makes a lot.
            remaining = (e.points + a.balance.min(0)).max(0);
        } else if e.points < 0 {
            let mut left = -e.points;
            for lot in lots.iter_mut().filter(|l| l.remaining > 0) {
                if left == 0 {
                    break;
                }
                let take = lot.remaining.min(left);
                lot.remaining -= take;
                left -= take;
                touched.push(lot.seq);
            }
        }
        a.balance += e.points;
        match e.kind {
            Kind::Accrual => {
                a.earned += e.points;
                a.accrued += e.points;
            }
            Kind::Welcome | Kind::Birthday => a.earned += e.points,
            Kind::Reversal => {
                a.earned += e.points;
                a.reversed -= e.points;
            }
            Kind::Redemption => a.redeemed -= e.points,
            Kind::Expiry => a.expired -= e.points,
            Kind::Adjustment => a.adjusted += e.points,
        }
        a.entries += 1;
        a.updated_at = Some(now);
        if remaining > 0 {
            lots.push(Lot {
                seq: a.entries,
                remaining,
                expires_at: e.expires_at,
            });
            lots.sort_by_key(Lot::order);
        }
        rows.push(Row {
            seq: a.entries,
            balance_after: a.balance,
            remaining,
            entry: e,
        });
    }
    touched.sort_unstable();
    touched.dedup();
    let new_seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    // A lot made by this posting is written with its row; only older lots
    // are updated.
    let changed = lots
        .iter()
        .filter(|l| touched.contains(&l.seq) && !new_seqs.contains(&l.seq))
        .copied()
        .collect();
    let mut posting = Posting {
        rows,
        lots: changed,
        account: a,
    };
    // The new lots' remaining points after any spending later in the posting.
    for row in &mut posting.rows {
        if let Some(l) = lots.iter().find(|l| l.seq == row.seq) {
            row.remaining = l.remaining;
        }
    }
    Ok(posting)
}

#[cfg(test)]
mod tests;
