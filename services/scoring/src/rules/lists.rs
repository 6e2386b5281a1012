//! The next-best lists rules read as `customer.lists`: which lists of the
//! tenant's latest report each customer is on. Read from the stored report,
//! kept per tenant for [`FRESH_FOR`], so a rule round does not decode the
//! report for every customer.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use prost::Message;
use rapport_proto::v1::Report;
use uuid::Uuid;

use crate::{
    error::{Error, storage},
    reports::repo::ReportRepo,
};

/// How long a tenant's lists are used before the stored report is read again.
const FRESH_FOR: Duration = Duration::from_secs(60);
/// The reactivation list's name in `customer.lists`.
pub const REACTIVATION: &str = "reactivation";
/// The up-sell list's name in `customer.lists`.
pub const UPSELL: &str = "upsell";
/// The cross-sell list's name in `customer.lists`.
pub const CROSS_SELL: &str = "cross_sell";
/// Every list's name, as rules name them.
pub const NAMES: &[&str] = &[REACTIVATION, UPSELL, CROSS_SELL];

/// The customers on each list of one tenant's latest report.
#[derive(Debug, Default)]
pub struct Lists {
    reactivation: HashSet<Uuid>,
    upsell: HashSet<Uuid>,
    cross_sell: HashSet<Uuid>,
}

impl Lists {
    /// The lists `customer` is on, by name.
    pub fn of(&self, customer: Uuid) -> Vec<String> {
        let mut names = Vec::new();
        if self.reactivation.contains(&customer) {
            names.push(REACTIVATION.to_owned());
        }
        if self.upsell.contains(&customer) {
            names.push(UPSELL.to_owned());
        }
        if self.cross_sell.contains(&customer) {
            names.push(CROSS_SELL.to_owned());
        }
        names
    }

    fn from_report(report: &Report) -> Lists {
        let ids = |list: &[rapport_proto::v1::ListEntry]| {
            list.iter()
                .filter_map(|e| e.customer_id.parse().ok())
                .collect()
        };
        Lists {
            reactivation: ids(&report.reactivation),
            upsell: ids(&report.upsell),
            cross_sell: ids(&report.cross_sell),
        }
    }
}

/// A tenant's lists and when they were read.
type Held = HashMap<Uuid, (Instant, Arc<Lists>)>;

/// Each tenant's lists as last read, and when.
#[derive(Clone)]
pub struct ListCache {
    repo: ReportRepo,
    held: Arc<Mutex<Held>>,
}

impl ListCache {
    pub fn new(repo: ReportRepo) -> ListCache {
        ListCache {
            repo,
            held: Arc::default(),
        }
    }

    /// The tenant's lists; empty before its first report.
    pub async fn get(&self, tenant: Uuid) -> Result<Arc<Lists>, Error> {
        {
            let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, lists)) = held.get(&tenant)
                && at.elapsed() < FRESH_FOR
            {
                return Ok(lists.clone());
            }
        }
        let latest = self
            .repo
            .latest(tenant)
            .await
            .map_err(storage("report run"))?;
        let lists = match latest {
            Some((_, Some(bytes))) => match Report::decode(bytes.as_slice()) {
                Ok(report) => Lists::from_report(&report),
                Err(e) => {
                    tracing::warn!(error = %e, %tenant, "stored report unreadable; no lists");
                    Lists::default()
                }
            },
            _ => Lists::default(),
        };
        let lists = Arc::new(lists);
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.insert(tenant, (Instant::now(), lists.clone()));
        Ok(lists)
    }
}
