//! The background passes of the points: expiring points nobody spent in
//! time, and the yearly birthday bonus. Both run beside the model refresh
//! (the `refresh` role), are safe on any number of replicas (expiry is
//! posted under the account's lock and reads what is due there; a day's
//! birthday pass is claimed by one replica and each bonus is keyed by its
//! year), and hold a bounded number of customers at a time.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    Loyalty,
    ledger::{Kind, NewEntry},
    store::{Mode, PostError},
    terms::Terms,
};
use crate::error::{Error, storage};

/// Customers expired per pass.
const EXPIRE_BATCH: i64 = 500;
/// Profiles read per page of the birthday pass.
const PROFILE_PAGE: i32 = 500;
/// A birthday missed by this many days (passes not run) still earns its
/// bonus; older ones wait for the next year.
const BIRTHDAY_GRACE_DAYS: i64 = 7;

/// What one round of the passes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoyaltyJobs {
    /// Customers whose due points expired.
    pub expired: usize,
    /// Birthday bonuses granted.
    pub birthdays: usize,
}

fn posting_error(e: PostError) -> Error {
    storage("points ledger")(e.into_sqlx())
}

/// This year's birthday of someone born on `born`: 29 February falls on
/// the 28th in other years.
fn birthday_in(born: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, born.month(), born.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, born.month(), born.day() - 1))
}

/// The birthday of `born` to celebrate on `today`: one in the grace window
/// up to today.
pub fn birthday_due(born: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
    let day = birthday_in(born, today.year())?;
    (day <= today && today - day <= Duration::days(BIRTHDAY_GRACE_DAYS) && born < day)
        .then_some(day)
}

impl Loyalty {
    /// One round of both passes as of `now`.
    pub async fn run_jobs(&self, now: DateTime<Utc>) -> Result<LoyaltyJobs, Error> {
        Ok(LoyaltyJobs {
            expired: self.expire_due(now).await?,
            birthdays: self.birthdays(now).await?,
        })
    }

    /// Expires the points due by `now` of up to a batch of customers.
    pub async fn expire_due(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        let due = self
            .repo
            .due(now, EXPIRE_BATCH)
            .await
            .map_err(storage("points due"))?;
        let mut done = 0;
        for (tenant, customer) in due {
            let entry = NewEntry {
                entry_id: format!("expire:{}", now.timestamp_micros()),
                kind: Kind::Expiry,
                // Read under the account's lock when posted.
                points: 0,
                occurred_at: now,
                expires_at: None,
                reason: String::new(),
                request: String::new(),
            };
            let batches = BTreeMap::from([(customer, vec![entry])]);
            let posted = self.repo.post(tenant, Mode::Members, batches, now).await;
            done += posted.map_err(posting_error)?.len();
        }
        Ok(done)
    }

    /// Grants the birthday bonuses of today for every tenant whose
    /// programme has one, once a day per tenant.
    pub async fn birthdays(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        let Some(profiles) = &self.profiles else {
            return Ok(0);
        };
        let today = now.date_naive();
        let tenants = self
            .repo
            .birthday_tenants()
            .await
            .map_err(storage("points programmes"))?;
        let mut granted = 0;
        for (tenant, terms) in tenants {
            let day = today.format("%Y-%m-%d").to_string();
            let claimed = self.repo.claim_birthdays(tenant, &day).await;
            if !claimed.map_err(storage("points programmes"))? {
                continue;
            }
            let mut token = String::new();
            loop {
                let page = profiles.customers(tenant, &token, PROFILE_PAGE).await?;
                let born: Vec<(Uuid, NaiveDate)> = page
                    .customers
                    .iter()
                    .filter_map(|c| {
                        let date = c.attributes.get("birth_date")?;
                        let born = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
                        let day = birthday_due(born, today)?;
                        Some((c.id.parse().ok()?, day))
                    })
                    .collect();
                granted += self.grant_birthdays(tenant, &terms, &born, now).await?;
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
        Ok(granted)
    }

    /// The bonus for each of `born` (customer, birthday) who is a member
    /// (has points history); keyed by year, so granted once.
    async fn grant_birthdays(
        &self,
        tenant: Uuid,
        terms: &Terms,
        born: &[(Uuid, NaiveDate)],
        now: DateTime<Utc>,
    ) -> Result<usize, Error> {
        if born.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = born.iter().map(|(c, _)| *c).collect();
        let members = self.repo.balances(tenant, &ids, now).await;
        let members: std::collections::HashSet<Uuid> = members
            .map_err(storage("points accounts"))?
            .into_iter()
            .map(|(c, _, _)| c)
            .collect();
        let batches: BTreeMap<Uuid, Vec<NewEntry>> = born
            .iter()
            .filter(|(c, _)| members.contains(c))
            .map(|(c, day)| {
                let entry = NewEntry {
                    entry_id: format!("birthday:{}", day.year()),
                    kind: Kind::Birthday,
                    points: terms.birthday_bonus,
                    occurred_at: now,
                    expires_at: terms.expiry(now),
                    reason: format!("birthday bonus {}", day.year()),
                    request: String::new(),
                };
                (*c, vec![entry])
            })
            .collect();
        let posted = self.repo.post(tenant, Mode::Members, batches, now).await;
        Ok(posted.map_err(posting_error)?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_birthday_is_due_on_the_day_and_for_a_week_after() {
        let born = d(1980, 3, 10);
        assert_eq!(birthday_due(born, d(2026, 3, 9)), None);
        assert_eq!(birthday_due(born, d(2026, 3, 10)), Some(d(2026, 3, 10)));
        assert_eq!(birthday_due(born, d(2026, 3, 17)), Some(d(2026, 3, 10)));
        assert_eq!(birthday_due(born, d(2026, 3, 18)), None);
        // Born today: no birthday yet.
        assert_eq!(birthday_due(d(2026, 3, 10), d(2026, 3, 10)), None);
    }

    #[test]
    fn the_29th_of_february_falls_on_the_28th_in_other_years() {
        let born = d(2000, 2, 29);
        assert_eq!(birthday_due(born, d(2026, 2, 28)), Some(d(2026, 2, 28)));
        assert_eq!(birthday_due(born, d(2028, 2, 29)), Some(d(2028, 2, 29)));
        assert_eq!(birthday_due(born, d(2028, 2, 28)), None);
    }
}
