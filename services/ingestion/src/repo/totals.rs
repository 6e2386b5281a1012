//! A bound on every money total scoring keeps for a customer. Each stored
//! transaction adds the largest of |amount|, |margin| and cost to its
//! customer's total; scoring's totals (purchases, refunds, net, margin, per
//! day and per month) are each a sum of some of those values, with no
//! multiplication past a margin rate of at most 1. A transaction that would
//! take its customer's total past [`MAX_CUSTOMER_TOTAL_MINOR`] is refused on
//! its own, so none of those totals can leave 64 bits.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rapport_kit::db::{Id, List};
use sqlx::{PgConnection, SqliteConnection};
use uuid::Uuid;

use super::batch::{PerBackend, Table, column, per_backend};
use crate::validate::Row;

/// The most a customer's total may reach: half of what 64 bits hold, so a
/// sum or difference of two of scoring's totals still fits.
pub(crate) const MAX_CUSTOMER_TOTAL_MINOR: i64 = i64::MAX / 2;

/// Why a row that would pass the bound is refused.
pub(crate) const OUT_OF_RANGE: &str =
    "the customer's total amount would exceed the representable range";

/// What one row adds to its customer's total, and the request field that
/// carries it (named when the row is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Weight {
    pub minor: i64,
    pub field: &'static str,
}

/// How the rows of a table that carries money count toward their
/// customers' totals.
pub(crate) struct Totals<T> {
    /// Gives back the keys of refused rows: on Postgres for a batch (`$1`
    /// tenant, `$2` sources, `$3` external ids), on SQLite for one key.
    pub unclaim: PerBackend,
    /// What a row adds.
    pub weight: fn(&T) -> Weight,
}

/// A row refused because its customer's total would pass the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Over {
    /// Its position in the request.
    pub index: u32,
    /// The field that carries the money.
    pub field: &'static str,
}

/// Keeps the rows whose key was new (`fresh`, in request order) that fit
/// their customers' totals, counts them in, and gives back the keys of the
/// others, which are returned as refused. Tables without money keep every
/// row.
pub(crate) async fn bound<'a, C: Ledger, T: Table>(
    conn: &mut C,
    tenant: Uuid,
    fresh: Vec<&'a Row<Uuid, T>>,
) -> Result<(Vec<&'a Row<Uuid, T>>, Vec<Over>), sqlx::Error> {
    let Some(totals) = T::TOTALS else {
        return Ok((fresh, Vec::new()));
    };
    if fresh.is_empty() {
        return Ok((fresh, Vec::new()));
    }
    let customers: BTreeSet<Uuid> = fresh.iter().map(|r| r.customer).collect();
    let customers: Vec<Uuid> = customers.into_iter().collect();
    let totals_now = conn.totals(tenant, &customers).await?;
    let checked = check(totals_now, &fresh, totals.weight);
    let (kept, refused): (Vec<_>, Vec<_>) = fresh
        .into_iter()
        .zip(&checked.fits)
        .partition(|(_, fits)| **fits);
    let kept: Vec<_> = kept.into_iter().map(|(r, _)| r).collect();
    let refused: Vec<_> = refused.into_iter().map(|(r, _)| r).collect();
    if !refused.is_empty() {
        conn.unclaim(tenant, totals.unclaim, &refused).await?;
    }
    if !checked.added.is_empty() {
        conn.add(tenant, &checked.added).await?;
    }
    let over = refused
        .iter()
        .map(|r| Over {
            index: r.index,
            field: (totals.weight)(&r.body).field,
        })
        .collect();
    Ok((kept, over))
}

/// The rows checked in order against their customers' totals.
struct Checked {
    /// Per row, whether it fits.
    fits: Vec<bool>,
    /// What the rows that fit add, per customer with something to add.
    added: BTreeMap<Uuid, i64>,
}

/// Walks `rows` in order: a row fits if its customer's total (0 for a
/// customer missing from `totals`) plus its weight stays within the bound,
/// and then counts toward that total for the rows after it.
fn check<T>(
    mut totals: HashMap<Uuid, i64>,
    rows: &[&Row<Uuid, T>],
    weight: fn(&T) -> Weight,
) -> Checked {
    let mut added = BTreeMap::new();
    let fits = rows
        .iter()
        .map(|r| {
            let w = weight(&r.body).minor;
            let total = totals.entry(r.customer).or_default();
            match total.checked_add(w) {
                // A row without money fits even a total already past the
                // bound (one kept from before totals were checked).
                Some(t) if t <= MAX_CUSTOMER_TOTAL_MINOR || w == 0 => {
                    *total = t;
                    if w != 0 {
                        *added.entry(r.customer).or_default() += w;
                    }
                    true
                }
                _ => false,
            }
        })
        .collect();
    Checked { fits, added }
}

/// A connection, inside the batch's transaction, that keeps customers'
/// totals.
pub(crate) trait Ledger {
    /// The totals of `customers` (distinct, sorted), locked until the
    /// transaction ends where the backend allows several writers.
    async fn totals(
        &mut self,
        tenant: Uuid,
        customers: &[Uuid],
    ) -> Result<HashMap<Uuid, i64>, sqlx::Error>;

    /// Gives back the keys of `rows`.
    async fn unclaim<T>(
        &mut self,
        tenant: Uuid,
        statement: PerBackend,
        rows: &[&Row<Uuid, T>],
    ) -> Result<(), sqlx::Error>;

    /// Adds `added` to the customers' totals.
    async fn add(&mut self, tenant: Uuid, added: &BTreeMap<Uuid, i64>) -> Result<(), sqlx::Error>;
}

/// Statements of their own (Postgres, SQLite).
const TOTALS: PerBackend = per_backend!("lock_totals", "read_totals");
const ADD: PerBackend = per_backend!("add_totals", "add_totals");

impl Ledger for PgConnection {
    async fn totals(
        &mut self,
        tenant: Uuid,
        customers: &[Uuid],
    ) -> Result<HashMap<Uuid, i64>, sqlx::Error> {
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(TOTALS.0)
            .bind(tenant)
            .bind(customers)
            .fetch_all(&mut *self)
            .await?;
        Ok(rows.into_iter().collect())
    }

    async fn unclaim<T>(
        &mut self,
        tenant: Uuid,
        statement: PerBackend,
        rows: &[&Row<Uuid, T>],
    ) -> Result<(), sqlx::Error> {
        sqlx::query(statement.0)
            .bind(tenant)
            .bind(column(rows, |r| r.source.as_str()))
            .bind(column(rows, |r| r.external_id.as_str()))
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn add(&mut self, tenant: Uuid, added: &BTreeMap<Uuid, i64>) -> Result<(), sqlx::Error> {
        sqlx::query(ADD.0)
            .bind(tenant)
            .bind(added.keys().copied().collect::<Vec<_>>())
            .bind(added.values().copied().collect::<Vec<_>>())
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}

/// One statement for the reads and one for the additions, over JSON arrays.
/// No lock is needed: the embedded store has one writer.
impl Ledger for SqliteConnection {
    async fn totals(
        &mut self,
        tenant: Uuid,
        customers: &[Uuid],
    ) -> Result<HashMap<Uuid, i64>, sqlx::Error> {
        let rows: Vec<(Id, i64)> = sqlx::query_as(TOTALS.1)
            .bind(Id(tenant))
            .bind(List(customers))
            .fetch_all(&mut *self)
            .await?;
        Ok(rows.into_iter().map(|(c, t)| (c.0, t)).collect())
    }

    async fn unclaim<T>(
        &mut self,
        tenant: Uuid,
        statement: PerBackend,
        rows: &[&Row<Uuid, T>],
    ) -> Result<(), sqlx::Error> {
        for r in rows {
            sqlx::query(statement.1)
                .bind(Id(tenant))
                .bind(&r.source)
                .bind(&r.external_id)
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }

    async fn add(&mut self, tenant: Uuid, added: &BTreeMap<Uuid, i64>) -> Result<(), sqlx::Error> {
        let pairs: Vec<(String, i64)> = added.iter().map(|(c, a)| (c.to_string(), *a)).collect();
        sqlx::query(ADD.1)
            .bind(Id(tenant))
            .bind(serde_json::json!(pairs).to_string())
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: u32, customer: Uuid, minor: i64) -> Row<Uuid, i64> {
        Row {
            index,
            id: Uuid::new_v4(),
            source: "erp".into(),
            external_id: format!("T-{index}"),
            customer,
            occurred_at: chrono::Utc::now(),
            body: minor,
        }
    }

    fn weight(minor: &i64) -> Weight {
        Weight {
            minor: *minor,
            field: "amount_minor",
        }
    }

    #[test]
    fn rows_fit_in_order_until_the_bound() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let big = MAX_CUSTOMER_TOTAL_MINOR / 2;
        let rows = [
            row(0, a, big),
            row(1, a, big),
            row(2, a, 2),
            row(3, b, big),
            row(4, a, 0),
        ];
        let refs: Vec<_> = rows.iter().collect();
        // 2 + 2 * big is one past the bound.
        let known = HashMap::from([(a, 2)]);
        let checked = check(known, &refs, weight);
        assert_eq!(checked.fits, [true, false, true, true, true]);
        assert_eq!(checked.added, BTreeMap::from([(a, big + 2), (b, big)]));
    }

    #[test]
    fn a_total_already_past_the_bound_refuses_any_money() {
        let a = Uuid::new_v4();
        let rows = [row(0, a, 1), row(1, a, 0)];
        let refs: Vec<_> = rows.iter().collect();
        let checked = check(HashMap::from([(a, i64::MAX)]), &refs, weight);
        assert_eq!(checked.fits, [false, true]);
        assert!(checked.added.is_empty());
    }
}
