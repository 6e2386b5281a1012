//! Loyalty points: each tenant's programme, the ledger every point moves
//! through, accrual on the apply path (in the same transaction as the
//! purchase's scores), redemptions and adjustments, and the background
//! passes that expire points and grant birthday bonuses.

pub mod accrual;
pub mod grpc;
mod jobs;
pub mod ledger;
pub mod store;
pub mod terms;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use rapport_kit::ApiError;
use uuid::Uuid;

use crate::{
    error::{Error, storage},
    profiles::Profiles,
};
use ledger::{Kind, NewEntry};
use store::{Balance, PointsRepo, PostError, Programme, StoredEntry};

pub use jobs::LoyaltyJobs;

/// How long a replica uses a tenant's programme before reading it again: a
/// change made on another replica reaches this one's apply path within it.
const FRESH_FOR: Duration = Duration::from_secs(60);

/// A tenant's programme as last read (none), and when.
type Held = HashMap<Uuid, (Instant, Option<Arc<Programme>>)>;

/// The points of every tenant.
#[derive(Clone)]
pub struct Loyalty {
    pub(crate) repo: PointsRepo,
    held: Arc<Mutex<Held>>,
    profiles: Option<Profiles>,
}

/// A redemption or adjustment, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spend {
    pub request_id: String,
    pub customer: Uuid,
    /// Signed: a redemption's is negative.
    pub points: i64,
    pub reason: String,
    pub kind: Kind,
}

impl Spend {
    fn entry_id(&self) -> String {
        match self.kind {
            Kind::Redemption => format!("redeem:{}", self.request_id),
            _ => format!("adjust:{}", self.request_id),
        }
    }

    /// What the request asked, stored with its entry.
    fn request(&self) -> String {
        format!("{}:{}", self.customer, self.points)
    }
}

/// What a redemption or adjustment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spent {
    pub entry: StoredEntry,
    pub balance: Balance,
    pub replayed: bool,
}

impl Loyalty {
    pub fn new(repo: PointsRepo, profiles: Option<Profiles>) -> Self {
        Loyalty {
            repo,
            held: Arc::default(),
            profiles,
        }
    }

    /// The tenant's programme, as read within [`FRESH_FOR`].
    pub async fn programme(&self, tenant: Uuid) -> Result<Option<Arc<Programme>>, Error> {
        {
            let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, p)) = held.get(&tenant)
                && at.elapsed() < FRESH_FOR
            {
                return Ok(p.clone());
            }
        }
        let read = self
            .repo
            .programme(tenant)
            .await
            .map_err(storage("points programme"))?
            .map(Arc::new);
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.insert(tenant, (Instant::now(), read.clone()));
        Ok(read)
    }

    /// Puts the tenant's programme; this replica uses it at once.
    pub async fn put(
        &self,
        tenant: Uuid,
        terms: &terms::Terms,
        start: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(Programme, bool, bool), Error> {
        let put = self
            .repo
            .put_programme(tenant, terms, start, now)
            .await
            .map_err(storage("points programme"))?;
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.insert(tenant, (Instant::now(), Some(Arc::new(put.0.clone()))));
        Ok(put)
    }

    /// A customer's balance now.
    pub async fn balance(&self, tenant: Uuid, customer: Uuid) -> Result<Balance, Error> {
        self.repo
            .balance(tenant, customer, Utc::now())
            .await
            .map_err(storage("points balance"))
    }

    /// Redeems or adjusts, once per request id. Refused beyond the balance
    /// (nothing written), and for a request id used for something else.
    pub async fn spend(&self, tenant: Uuid, spend: Spend) -> Result<Spent, Error> {
        let entry_id = spend.entry_id();
        if let Some(found) = self.replay(tenant, &spend, &entry_id).await? {
            return Ok(found);
        }
        let now = Utc::now();
        let entry = NewEntry {
            entry_id: entry_id.clone(),
            kind: spend.kind,
            points: spend.points,
            occurred_at: now,
            expires_at: None,
            reason: spend.reason.clone(),
            request: spend.request(),
        };
        // Points added by hand are earned points: they expire like any.
        let entry = match (spend.points > 0, self.programme(tenant).await?) {
            (true, Some(p)) => NewEntry {
                expires_at: p.terms.expiry(now),
                ..entry
            },
            _ => entry,
        };
        let batches = BTreeMap::from([(spend.customer, vec![entry])]);
        let posted = match self
            .repo
            .post(tenant, store::Mode::Open, batches, now)
            .await
        {
            Ok(p) => p,
            Err(PostError::Storage(e)) => return Err(storage("points ledger")(e)),
            Err(PostError::Insufficient(i)) if !i.member => {
                return Err(Error::Api(ApiError::NotFound {
                    what: "points_account",
                    id: format!("of customer {} (no points earned yet)", spend.customer),
                }));
            }
            Err(PostError::Insufficient(i)) => {
                return Err(Error::Api(ApiError::FailedPrecondition {
                    reason: "INSUFFICIENT_POINTS",
                    message: format!(
                        "taking {} points needs a balance of at least {}; the balance is {}",
                        i.asked, i.asked, i.balance
                    ),
                }));
            }
        };
        if posted.is_empty() {
            // A concurrent call with the same request id wrote it first.
            return match self.replay(tenant, &spend, &entry_id).await? {
                Some(found) => Ok(found),
                None => Err(Error::Unavailable(
                    "the points entry was neither written nor found; retry".into(),
                )),
            };
        }
        let found = self.repo.request_entry(tenant, &entry_id).await;
        let entry = found
            .map_err(storage("points ledger"))?
            .ok_or_else(|| Error::Unavailable("the points entry just written is missing".into()))?;
        Ok(Spent {
            entry,
            balance: self.balance(tenant, spend.customer).await?,
            replayed: false,
        })
    }

    /// The entry a request id made before, when it asked the same.
    async fn replay(
        &self,
        tenant: Uuid,
        spend: &Spend,
        entry_id: &str,
    ) -> Result<Option<Spent>, Error> {
        let found = self
            .repo
            .request_entry(tenant, entry_id)
            .await
            .map_err(storage("points ledger"))?;
        let Some(entry) = found else {
            return Ok(None);
        };
        if entry.request != spend.request() || entry.kind != spend.kind {
            return Err(Error::Api(ApiError::AlreadyExists {
                reason: "REQUEST_ID_REUSED",
                message: "request_id was already used for another customer, amount or kind; \
                          use a new request_id"
                    .into(),
            }));
        }
        Ok(Some(Spent {
            balance: self.balance(tenant, spend.customer).await?,
            entry,
            replayed: true,
        }))
    }

    /// A page of a customer's ledger, newest first.
    pub async fn ledger(
        &self,
        tenant: Uuid,
        customer: Uuid,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredEntry>, Error> {
        self.repo
            .ledger(tenant, customer, before, limit)
            .await
            .map_err(storage("points ledger"))
    }
}
