//! What GetRuleStats reads: the firings of a bounded sample of the
//! customers a rule fired for since a time, its failed evaluations since
//! then, and the compared customers' purchases after their firings. Reads
//! go to the reader (the replica when one is set).

use std::collections::HashMap;

use futures::TryStreamExt;
use rapport_kit::{
    Db,
    db::{Id, List},
    on_pool, sql_for,
};
use uuid::Uuid;

/// GetRuleStats's reads, on the reader.
#[derive(Debug, Clone)]
pub struct StatsRepo {
    pub(crate) reader: Db,
}

/// One customer's firings of a rule in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerFirings {
    /// Customer.
    pub customer: Uuid,
    /// Their first firing in the window (microseconds).
    pub first_at: i64,
    /// Whether that first firing put them in the control group.
    pub holdout: bool,
    /// Firings in the window.
    pub firings: u64,
    /// Notifications accepted for them.
    pub sent: u64,
    /// Notifications suppressed.
    pub suppressed: u64,
}

/// What a rule did since a time, over a sample of its customers.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleWindow {
    /// The customers read, in id order, each with their firings.
    pub customers: Vec<CustomerFirings>,
    /// More customers fired than were read.
    pub more: bool,
    /// How many of the rule's evaluations failed (all of them).
    pub errors: i64,
    /// The latest failure's message.
    pub last_error: Option<String>,
}

/// Customers per read of their purchases.
const WINDOW_CHUNK: usize = 1_000;

impl StatsRepo {
    /// What `rule` did since `since` (microseconds), over at most `limit`
    /// of the customers it fired for: the first in id order. The customers
    /// are found on the (rule, customer, time) index and their firings read
    /// in one pass, tallied as they stream, so neither the time nor the
    /// memory grows with the customers past the limit.
    pub async fn since(
        &self,
        tenant: Uuid,
        rule: &str,
        since: i64,
        limit: u32,
    ) -> Result<RuleWindow, sqlx::Error> {
        let tenant = Id(tenant);
        let want = i64::from(limit) + 1;
        let mut firing: Vec<Id> = on_pool!(&self.reader, pool => {
            sqlx::query_scalar(include_str!("../../../sql/rules/stats_customers.sql"))
                .bind(tenant).bind(rule).bind(since).bind(want)
                .fetch_all(pool).await?
        });
        let more = firing.len() > limit as usize;
        firing.truncate(limit as usize);
        let mut tallies: HashMap<Uuid, CustomerFirings> = HashMap::with_capacity(firing.len());
        if let Some(last) = firing.last() {
            let last = *last;
            on_pool!(&self.reader, pool => {
                let mut rows = sqlx::query_as::<_, (Id, i64, bool, String)>(
                    include_str!("../../../sql/rules/stats_firings.sql"),
                )
                .bind(tenant).bind(rule).bind(since).bind(last)
                .fetch(pool);
                while let Some((customer, at, holdout, results)) = rows.try_next().await? {
                    add_firing(&mut tallies, customer.0, at, holdout, &results);
                }
            });
        }
        // In id order, the last being the sample's last.
        let customers: Vec<CustomerFirings> =
            firing.iter().filter_map(|c| tallies.remove(&c.0)).collect();
        let (errors, last_error) = on_pool!(&self.reader, pool => {
            let errors: i64 = sqlx::query_scalar(include_str!("../../../sql/rules/errors_since.sql"))
                .bind(tenant).bind(rule).bind(since)
                .fetch_one(pool).await?;
            let last: Option<String> = sqlx::query_scalar(include_str!("../../../sql/rules/last_error_since.sql"))
                .bind(tenant).bind(rule).bind(since)
                .fetch_optional(pool).await?;
            (errors, last)
        });
        Ok(RuleWindow {
            customers,
            more,
            errors,
            last_error,
        })
    }

    /// Purchases of each `(customer, from_day, to_day)` on the days after
    /// `from_day` up to `to_day` (from `customer_days`), in the order given:
    /// one read per thousand customers.
    pub async fn purchases_in_windows(
        &self,
        tenant: Uuid,
        windows: &[(Uuid, i64, i64)],
    ) -> Result<Vec<i64>, sqlx::Error> {
        let sql = sql_for!(
            &self.reader,
            postgres = "SELECT customer_id, day, purchases FROM customer_days \
                        WHERE tenant_id = $1 AND customer_id = ANY($2) AND day > $3 AND day <= $4",
            sqlite = "SELECT customer_id, day, purchases FROM customer_days \
                      WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2)) \
                      AND day > $3 AND day <= $4",
        );
        let mut out = Vec::with_capacity(windows.len());
        for chunk in windows.chunks(WINDOW_CHUNK) {
            let ids: Vec<Id> = chunk.iter().map(|w| Id(w.0)).collect();
            let from = chunk.iter().map(|w| w.1).min().unwrap_or(0);
            let to = chunk.iter().map(|w| w.2).max().unwrap_or(0);
            let day = |d: i64| i32::try_from(d).unwrap_or(if d < 0 { i32::MIN } else { i32::MAX });
            let rows: Vec<(Id, i32, i64)> = on_pool!(&self.reader, pool => {
                sqlx::query_as(sql)
                    .bind(Id(tenant)).bind(List(&ids)).bind(day(from)).bind(day(to))
                    .fetch_all(pool).await?
            });
            let mut sums: HashMap<Uuid, i64> = HashMap::with_capacity(chunk.len());
            let windows: HashMap<Uuid, (i64, i64)> =
                chunk.iter().map(|w| (w.0, (w.1, w.2))).collect();
            for (customer, d, purchases) in rows {
                let d = i64::from(d);
                if let Some((from, to)) = windows.get(&customer.0)
                    && d > *from
                    && d <= *to
                {
                    let sum = sums.entry(customer.0).or_default();
                    *sum = sum.saturating_add(purchases);
                }
            }
            out.extend(chunk.iter().map(|w| sums.get(&w.0).copied().unwrap_or(0)));
        }
        Ok(out)
    }
}

/// Adds one firing, read in any order, to its customer's tally: the first
/// firing (and whether it was in the control group) is the earliest.
fn add_firing(
    tallies: &mut HashMap<Uuid, CustomerFirings>,
    customer: Uuid,
    at: i64,
    holdout: bool,
    results: &str,
) {
    let results: Vec<String> = serde_json::from_str(results).unwrap_or_default();
    let sent = results
        .iter()
        .filter(|r| r.starts_with("notification "))
        .count() as u64;
    let suppressed = results
        .iter()
        .filter(|r| r.starts_with("suppressed:"))
        .count() as u64;
    let c = tallies.entry(customer).or_insert(CustomerFirings {
        customer,
        first_at: at,
        holdout,
        firings: 0,
        sent: 0,
        suppressed: 0,
    });
    if at < c.first_at {
        (c.first_at, c.holdout) = (at, holdout);
    }
    c.firings += 1;
    c.sent += sent;
    c.suppressed += suppressed;
}

#[cfg(test)]
mod tests {
    use rapport_kit::{
        Db,
        testing::{self, Backend},
    };

    use super::*;

    rapport_kit::backend_tests! {
        purchases_are_summed_within_each_customers_own_window,
    }

    /// Firings stream in any order: each customer's first is the earliest,
    /// with its control group, whatever order they came in.
    #[test]
    fn firings_are_tallied_per_customer_in_any_order() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut tallies = HashMap::new();
        let sent = r#"["notification n-1","suppressed: no consent"]"#;
        add_firing(&mut tallies, a, 30, false, sent);
        add_firing(&mut tallies, b, 20, false, "[]");
        add_firing(&mut tallies, a, 10, true, "[]");
        add_firing(&mut tallies, a, 20, false, r#"["notification n-2"]"#);
        assert_eq!(
            tallies[&a],
            CustomerFirings {
                customer: a,
                first_at: 10,
                holdout: true,
                firings: 3,
                sent: 2,
                suppressed: 1,
            }
        );
        assert_eq!((tallies[&b].firings, tallies[&b].sent), (1, 0));
    }

    async fn purchases_are_summed_within_each_customers_own_window(backend: Backend) {
        let config = testing::config(backend).await;
        let db = Db::connect_lazy(&config, crate::SCHEMA).unwrap();
        db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await.unwrap();
        let repo = StatsRepo { reader: db.clone() };
        let (tenant, other) = (Uuid::new_v4(), Uuid::new_v4());
        // 2,500 customers, so the reads cross chunks: customer i bought
        // i % 3 + 1 times on day 100 + i % 7, and once on day 300.
        let customers: Vec<Uuid> = (0..2_500).map(|_| Uuid::new_v4()).collect();
        on_pool!(&db, pool => {
            let mut tx = pool.begin().await.unwrap();
            for (i, c) in customers.iter().enumerate() {
                for (t, day, n) in [
                    (tenant, 100 + (i % 7) as i32, (i % 3 + 1) as i64),
                    (tenant, 300, 1),
                    (other, 100 + (i % 7) as i32, 50),
                ] {
                    sqlx::query(
                        "INSERT INTO customer_days (tenant_id, customer_id, day, purchases, purchase_minor) \
                         VALUES ($1, $2, $3, $4, 0)",
                    )
                    .bind(Id(t)).bind(Id(*c)).bind(day).bind(n)
                    .execute(&mut *tx).await.unwrap();
                }
            }
            tx.commit().await.unwrap();
        });
        // Customer i's window starts after day 100 + i % 5 and ends at day
        // 106, or 300 for every tenth; one customer bought nothing.
        let mut windows: Vec<(Uuid, i64, i64)> = customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    *c,
                    100 + (i % 5) as i64,
                    if i % 10 == 0 { 300 } else { 106 },
                )
            })
            .collect();
        windows.push((Uuid::new_v4(), 0, 1_000));
        let got = repo.purchases_in_windows(tenant, &windows).await.unwrap();
        let expected: Vec<i64> = (0..2_500)
            .map(|i| {
                let day = 100 + (i % 7) as i64;
                let (from, to) = (100 + (i % 5) as i64, if i % 10 == 0 { 300 } else { 106 });
                let first = if day > from && day <= to {
                    (i % 3 + 1) as i64
                } else {
                    0
                };
                first + i64::from(to >= 300)
            })
            .chain([0])
            .collect();
        assert_eq!(got, expected);
        assert!(
            repo.purchases_in_windows(tenant, &[])
                .await
                .unwrap()
                .is_empty()
        );
    }
}
