//! Wallet estimates from Profiles: the customer attribute `wallet_estimate`
//! (yearly spend in the category, major units, as ERP or a survey supplies
//! it; `wallet_estimate_minor` in minor units is read too), copied onto the
//! scores that share of wallet is computed from.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_kit::domain::{self, CurrencyCode};
use uuid::Uuid;

use super::Refresher;
use crate::error::Error;

/// The attribute in major units.
pub const ATTRIBUTE: &str = "wallet_estimate";
/// The attribute in minor units.
pub const ATTRIBUTE_MINOR: &str = "wallet_estimate_minor";
/// Customers asked for per page.
const PAGE_SIZE: i32 = 1_000;

/// A customer's estimate from their attributes, minor units; `None` when
/// absent or not a valid non-negative amount.
pub fn estimate(attributes: &HashMap<String, String>, currency: CurrencyCode) -> Option<i64> {
    if let Some(text) = attributes.get(ATTRIBUTE) {
        return domain::parse_amount_decimal(text, currency).ok();
    }
    attributes
        .get(ATTRIBUTE_MINOR)
        .and_then(|t| t.trim().parse::<i64>().ok())
        .and_then(|m| domain::parse_amount_minor(m).ok())
}

impl Refresher {
    /// Reads every customer's estimate from Profiles, a page at a time, and
    /// stores the changed ones page by page; the scores they change are
    /// published to the cache. Profiles lists customers by ascending id, so
    /// each page is every customer of its id range, and an estimate stored
    /// in that range but not listed was removed. Memory holds one page
    /// whatever the tenant's size; a failed page keeps what earlier pages
    /// stored. Returns how many changed.
    pub async fn refresh_wallets(
        &self,
        tenant: Uuid,
        currency: CurrencyCode,
        now: DateTime<Utc>,
    ) -> Result<usize, Error> {
        let mut token = String::new();
        let mut after = Uuid::nil();
        let mut changed = 0;
        loop {
            let page = self.profiles.customers(tenant, &token, PAGE_SIZE).await?;
            let mut found: HashMap<Uuid, i64> = HashMap::with_capacity(page.customers.len());
            let mut last = after;
            for c in &page.customers {
                let Ok(id) = Uuid::parse_str(&c.id) else {
                    continue;
                };
                if id <= last {
                    return Err(Error::Unavailable(format!(
                        "profiles listed customer {id} after {last}: not in ascending id order"
                    )));
                }
                last = id;
                if let Some(e) = estimate(&c.attributes, currency) {
                    found.insert(id, e);
                }
            }
            let done = page.next_page_token.is_empty();
            if !done && last == after {
                return Err(Error::Unavailable(
                    "profiles answered an empty page with a next page".into(),
                ));
            }
            // The last page covers every id after the one before it.
            let upto = if done { Uuid::max() } else { last };
            let scores = &self.scores;
            changed += scores
                .replace_wallets(tenant, (after, upto), &found, now)
                .await?;
            if done {
                return Ok(changed);
            }
            token = page.next_page_token;
            after = last;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_parse_in_major_or_minor_units() {
        let eur = CurrencyCode::parse("EUR").unwrap();
        let attrs = |k: &str, v: &str| HashMap::from([(k.to_owned(), v.to_owned())]);
        assert_eq!(estimate(&attrs(ATTRIBUTE, "1200.5"), eur), Some(120_050));
        assert_eq!(estimate(&attrs(ATTRIBUTE_MINOR, "999"), eur), Some(999));
        assert_eq!(estimate(&attrs(ATTRIBUTE, "-5"), eur), None);
        assert_eq!(estimate(&attrs(ATTRIBUTE, "lots"), eur), None);
        assert_eq!(estimate(&attrs("region", "north"), eur), None);
    }
}
