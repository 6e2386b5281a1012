//! The points tables (`points_programmes`, `points_accounts`,
//! `points_ledger`, migration 12). Posting is one algorithm for both stores
//! ([`post_all`]: lock the accounts, load their lots, post in memory, write
//! back); the writes differ the way the score writes do: Postgres sends each
//! table's batch as arrays through `UNNEST` ([`postgres`]), SQLite a
//! statement per row ([`sqlite`]).

mod postgres;
mod reads;
mod sqlite;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

pub use reads::{Balance, PointsRepo, Programme, StoredEntry};

use super::ledger::{self, Account, Insufficient, Lot, NewEntry, Posting};

/// Makes the welcome bonus from a customer's first accrual, if any.
pub type Welcome<'a> = dyn Fn(&NewEntry) -> Option<NewEntry> + Sync + 'a;

/// The per-table work of posting, inside the caller's transaction.
pub(crate) trait Store {
    /// The customers' accounts, locked until the transaction ends (in
    /// customer order, as every writer locks them); with `open`, made first
    /// for those without one.
    async fn lock_accounts(
        &mut self,
        tenant: Uuid,
        customers: &[Uuid],
        open: bool,
        now: DateTime<Utc>,
    ) -> sqlx::Result<HashMap<Uuid, Account>>;

    /// The customers' lots with points left.
    async fn lots(&mut self, tenant: Uuid, customers: &[Uuid]) -> sqlx::Result<Vec<(Uuid, Lot)>>;

    /// Which of `entry_ids` the customers' ledgers hold already.
    async fn known(
        &mut self,
        tenant: Uuid,
        customers: &[Uuid],
        entry_ids: &[&str],
    ) -> sqlx::Result<HashSet<(Uuid, String)>>;

    /// Writes the postings: new rows, changed lots, accounts.
    async fn write(
        &mut self,
        tenant: Uuid,
        postings: &[(Uuid, Posting)],
        now: DateTime<Utc>,
    ) -> sqlx::Result<()>;
}

/// Why a posting was not made.
#[derive(Debug)]
pub enum PostError {
    /// Spending beyond a customer's balance: nothing was written.
    Insufficient(Insufficient),
    Storage(sqlx::Error),
}

impl PostError {
    /// As a storage error, where spending beyond a balance cannot happen
    /// (the apply path only earns and reverses).
    pub fn into_sqlx(self) -> sqlx::Error {
        match self {
            PostError::Storage(e) => e,
            PostError::Insufficient(..) => {
                sqlx::Error::Protocol("points: a balance went below zero by choice".into())
            }
        }
    }
}

impl From<sqlx::Error> for PostError {
    fn from(e: sqlx::Error) -> Self {
        PostError::Storage(e)
    }
}

/// Who posts, which says what must be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The apply path: the entries' ids are the ids of changes claimed as
    /// new in this transaction, so none is in a ledger yet; accounts are
    /// opened.
    Claimed,
    /// A request: accounts are opened; entries already in the ledger are
    /// skipped.
    Open,
    /// A pass over members (expiry, birthdays): customers without an
    /// account are left out, so a pass that read a customer just before an
    /// erasure brings nothing back; entries already in the ledger are
    /// skipped.
    Members,
}

/// Posts each customer's entries inside the caller's transaction as `mode`
/// says; returns what each customer's posting wrote (customers with nothing
/// new are left out). A welcome bonus is added before a customer's first
/// accrual when `welcome` makes one.
pub async fn post_all<S: Store>(
    store: &mut S,
    tenant: Uuid,
    mode: Mode,
    mut batches: BTreeMap<Uuid, Vec<NewEntry>>,
    welcome: Option<&Welcome<'_>>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Posting)>, PostError> {
    batches.retain(|_, v| !v.is_empty());
    if batches.is_empty() {
        return Ok(Vec::new());
    }
    let customers: Vec<Uuid> = batches.keys().copied().collect();
    let open = mode != Mode::Members;
    let accounts = store.lock_accounts(tenant, &customers, open, now).await?;
    batches.retain(|c, _| accounts.contains_key(c));
    let known = match mode {
        Mode::Claimed => HashSet::new(),
        Mode::Open | Mode::Members => {
            let ids: Vec<&str> = batches
                .values()
                .flatten()
                .map(|e| e.entry_id.as_str())
                .collect();
            store.known(tenant, &customers, &ids).await?
        }
    };
    let mut lots: HashMap<Uuid, Vec<Lot>> = HashMap::new();
    // Only a customer who spends needs the lots.
    let spenders: Vec<Uuid> = batches
        .iter()
        .filter(|(_, es)| {
            es.iter().any(|e| {
                e.points < 0 || matches!(e.kind, ledger::Kind::Reversal | ledger::Kind::Expiry)
            })
        })
        .map(|(c, _)| *c)
        .collect();
    if !spenders.is_empty() {
        for (c, lot) in store.lots(tenant, &spenders).await? {
            lots.entry(c).or_default().push(lot);
        }
    }
    let mut postings = Vec::with_capacity(batches.len());
    for (customer, entries) in batches {
        let account = accounts.get(&customer).cloned().unwrap_or_default();
        let mut fresh: Vec<NewEntry> = Vec::with_capacity(entries.len() + 1);
        let mut welcomed = account.welcomed;
        let mut birthday_year = None;
        let held = lots.remove(&customer).unwrap_or_default();
        for mut e in entries {
            if known.contains(&(customer, e.entry_id.clone())) {
                continue;
            }
            if e.kind == ledger::Kind::Expiry {
                // What is due is read here, under the account's lock: a
                // redemption in between has spent what it spent.
                e.points = -held
                    .iter()
                    .filter(|l| l.expires_at.is_some_and(|t| t <= e.occurred_at))
                    .map(|l| l.remaining)
                    .sum::<i64>();
                if e.points == 0 {
                    continue;
                }
                e.reason = format!("{} points earned more than the programme keeps", -e.points);
            }
            if e.kind == ledger::Kind::Birthday {
                birthday_year = Some(e.occurred_at.year());
            }
            if !welcomed && e.kind == ledger::Kind::Accrual {
                welcomed = true;
                if let Some(w) = welcome.and_then(|make| make(&e)) {
                    fresh.push(w);
                }
            }
            fresh.push(e);
        }
        if fresh.is_empty() {
            continue;
        }
        let mut posting =
            ledger::post(&account, &held, fresh, now).map_err(PostError::Insufficient)?;
        posting.account.welcomed = welcomed;
        if let Some(year) = birthday_year {
            posting.account.birthday_year = year;
        }
        postings.push((customer, posting));
    }
    store.write(tenant, &postings, now).await?;
    Ok(postings)
}

impl PointsRepo {
    /// Posts in a transaction of its own (as `mode` says, see
    /// [`post_all`]); spending beyond a balance rolls it back whole.
    pub async fn post(
        &self,
        tenant: Uuid,
        mode: Mode,
        batches: BTreeMap<Uuid, Vec<NewEntry>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, Posting)>, PostError> {
        rapport_kit::on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            // An early return drops the transaction, which rolls it back.
            let posted = post_all(&mut *tx, tenant, mode, batches, None, now).await?;
            tx.commit().await?;
            Ok(posted)
        })
    }
}
