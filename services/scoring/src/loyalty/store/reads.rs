//! Reads of the points tables, and the writes outside posting (the
//! programme, the birthday pass's claim, erasure): one SQL text for both
//! stores where they agree.

use chrono::{DateTime, SubsecRound, Utc};
use rapport_kit::{
    Db,
    db::{Id, List, Time},
    in_tx, on_pool, sql_for,
};
use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};
use uuid::Uuid;

use crate::loyalty::{
    ledger::{Account, Kind},
    terms::Terms,
};

/// The columns [`AccountRow`] reads.
pub(super) const ACCOUNT_COLUMNS: &str = "customer_id, balance, earned, accrued, reversed, \
     redeemed, expired, adjusted, entries, birthday_year, welcomed, updated_at";

/// A customer's account row.
pub(super) struct AccountRow(Uuid, Account);

impl AccountRow {
    pub(super) fn split(self) -> (Uuid, Account) {
        (self.0, self.1)
    }
}

impl<'r, R> FromRow<'r, R> for AccountRow
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    Id: Decode<'r, R::Database> + Type<R::Database>,
    Time: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(r: &'r R) -> Result<Self, sqlx::Error> {
        Ok(AccountRow(
            r.try_get::<Id, _>("customer_id")?.0,
            Account {
                balance: r.try_get("balance")?,
                earned: r.try_get("earned")?,
                accrued: r.try_get("accrued")?,
                reversed: r.try_get("reversed")?,
                redeemed: r.try_get("redeemed")?,
                expired: r.try_get("expired")?,
                adjusted: r.try_get("adjusted")?,
                entries: r.try_get("entries")?,
                birthday_year: r.try_get("birthday_year")?,
                welcomed: r.try_get("welcomed")?,
                updated_at: Some(r.try_get::<Time, _>("updated_at")?.0),
            },
        ))
    }
}

/// A ledger entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub customer_id: Uuid,
    pub seq: i64,
    pub entry_id: String,
    pub kind: Kind,
    pub points: i64,
    pub balance_after: i64,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub reason: String,
    pub request: String,
}

const ENTRY_COLUMNS: &str = "customer_id, seq, entry_id, kind, points, balance_after, \
     occurred_at, recorded_at, expires_at, reason, request";

impl<'r, R> FromRow<'r, R> for StoredEntry
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    Id: Decode<'r, R::Database> + Type<R::Database>,
    Time: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    fn from_row(r: &'r R) -> Result<Self, sqlx::Error> {
        Ok(StoredEntry {
            customer_id: r.try_get::<Id, _>("customer_id")?.0,
            seq: r.try_get("seq")?,
            entry_id: r.try_get("entry_id")?,
            kind: Kind::parse(&r.try_get::<String, _>("kind")?),
            points: r.try_get("points")?,
            balance_after: r.try_get("balance_after")?,
            occurred_at: r.try_get::<Time, _>("occurred_at")?.0,
            recorded_at: r.try_get::<Time, _>("recorded_at")?.0,
            expires_at: r.try_get::<Option<Time>, _>("expires_at")?.map(|t| t.0),
            reason: r.try_get("reason")?,
            request: r.try_get("request")?,
        })
    }
}

/// A tenant's programme as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    pub terms: Terms,
    pub version: i64,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A customer's balance as GetPointsBalance shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balance {
    pub account: Account,
    pub expiring_30d: i64,
    pub next_expiry: Option<(DateTime<Utc>, i64)>,
}

/// The points tables.
#[derive(Debug, Clone)]
pub struct PointsRepo {
    pub(crate) db: Db,
}

impl PointsRepo {
    pub fn new(db: Db) -> Self {
        PointsRepo { db }
    }

    /// The tenant's programme.
    pub async fn programme(&self, tenant: Uuid) -> sqlx::Result<Option<Programme>> {
        let row: Option<(String, i64, Time, Time)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT programme, version, started_at, updated_at FROM points_programmes \
                 WHERE tenant_id = $1",
            )
            .bind(Id(tenant))
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(json, version, started, updated)| Programme {
            // Terms as this version wrote them; a row no version could
            // read would be a bug, and reads as no multipliers at all.
            terms: serde_json::from_str(&json).unwrap_or_default(),
            version,
            started_at: started.0,
            updated_at: updated.0,
        }))
    }

    /// Stores `terms`, starting at `start` when given (else when first put,
    /// or as stored): the programme, whether it was made now, and whether
    /// anything changed.
    pub async fn put_programme(
        &self,
        tenant: Uuid,
        terms: &Terms,
        start: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> sqlx::Result<(Programme, bool, bool)> {
        let json = serde_json::to_string(terms).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let lock = sql_for!(
            &self.db,
            postgres = "SELECT programme, version, started_at FROM points_programmes \
                        WHERE tenant_id = $1 FOR UPDATE",
            sqlite = "SELECT programme, version, started_at FROM points_programmes \
                      WHERE tenant_id = $1",
        );
        // Whole seconds: a purchase stamped in the second the programme
        // began (as source systems often stamp them) earns.
        let start = start.map(|t| t.trunc_subsecs(0));
        let (version, started, created, changed) = in_tx!(&self.db, tx => {
            let held: Option<(String, i64, Time)> =
                sqlx::query_as(lock).bind(Id(tenant)).fetch_optional(&mut *tx).await?;
            match held {
                Some((old, version, started))
                    if serde_json::from_str::<Terms>(&old).ok().as_ref() == Some(terms)
                        && start.is_none_or(|s| s == started.0) =>
                {
                    (version, started.0, false, false)
                }
                Some((_, version, started)) => {
                    let started = start.unwrap_or(started.0);
                    sqlx::query(
                        "UPDATE points_programmes SET programme = $2, version = $3, \
                         updated_at = $4, started_at = $5 WHERE tenant_id = $1",
                    )
                    .bind(Id(tenant))
                    .bind(&json)
                    .bind(version + 1)
                    .bind(Time(now))
                    .bind(Time(started))
                    .execute(&mut *tx)
                    .await?;
                    (version + 1, started, false, true)
                }
                None => {
                    let started = start.unwrap_or_else(|| now.trunc_subsecs(0));
                    // Of two first puts at once, the second waits on the
                    // key and then changes the first's row.
                    sqlx::query(
                        "INSERT INTO points_programmes \
                             (tenant_id, programme, version, started_at, updated_at) \
                         VALUES ($1, $2, 1, $3, $4) \
                         ON CONFLICT (tenant_id) DO UPDATE SET programme = excluded.programme, \
                             version = points_programmes.version + 1, updated_at = excluded.updated_at",
                    )
                    .bind(Id(tenant))
                    .bind(&json)
                    .bind(Time(started))
                    .bind(Time(now))
                    .execute(&mut *tx)
                    .await?;
                    (1, started, true, true)
                }
            }
        });
        let mut programme = self.programme(tenant).await?.unwrap_or(Programme {
            terms: terms.clone(),
            version,
            started_at: started,
            updated_at: now,
        });
        programme.terms = terms.clone();
        Ok((programme, created, changed))
    }

    /// A customer's balance as of `now`.
    pub async fn balance(
        &self,
        tenant: Uuid,
        customer: Uuid,
        now: DateTime<Utc>,
    ) -> sqlx::Result<Balance> {
        let account_sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM points_accounts WHERE tenant_id = $1 AND customer_id = $2"
        );
        let in_30d = now + chrono::Duration::days(30);
        on_pool!(&self.db, pool => {
            let account: Option<AccountRow> = sqlx::query_as(&account_sql)
                .bind(Id(tenant))
                .bind(Id(customer))
                .fetch_optional(pool)
                .await?;
            let Some(AccountRow(_, account)) = account else {
                return Ok(Balance::default());
            };
            let (expiring,): (Option<i64>,) = sqlx::query_as(
                "SELECT CAST(SUM(remaining) AS BIGINT) FROM points_ledger \
                 WHERE tenant_id = $1 AND customer_id = $2 AND remaining > 0 \
                   AND expires_at IS NOT NULL AND expires_at <= $3",
            )
            .bind(Id(tenant))
            .bind(Id(customer))
            .bind(Time(in_30d))
            .fetch_one(pool)
            .await?;
            let next: Option<(Time, i64)> = sqlx::query_as(
                "SELECT expires_at, CAST(SUM(remaining) AS BIGINT) FROM points_ledger \
                 WHERE tenant_id = $1 AND customer_id = $2 AND remaining > 0 \
                   AND expires_at IS NOT NULL \
                 GROUP BY expires_at ORDER BY expires_at LIMIT 1",
            )
            .bind(Id(tenant))
            .bind(Id(customer))
            .fetch_optional(pool)
            .await?;
            Ok(Balance {
                account,
                expiring_30d: expiring.unwrap_or(0),
                next_expiry: next.map(|(t, n)| (t.0, n)),
            })
        })
    }

    /// The balance and the points expiring within 30 days of `now` of each
    /// of `customers` that has an account (for rules).
    pub async fn balances(
        &self,
        tenant: Uuid,
        customers: &[Uuid],
        now: DateTime<Utc>,
    ) -> sqlx::Result<Vec<(Uuid, i64, i64)>> {
        let sql = sql_for!(
            &self.db,
            postgres = include_str!("../../../sql/postgres/points_balances.sql"),
            sqlite = include_str!("../../../sql/sqlite/points_balances.sql"),
        );
        let rows: Vec<(Id, i64, i64)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql)
                .bind(Id(tenant))
                .bind(List(customers))
                .bind(Time(now + chrono::Duration::days(30)))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|(c, b, e)| (c.0, b, e)).collect())
    }

    /// A redemption's or adjustment's entry by its id, whoever it was for.
    pub async fn request_entry(
        &self,
        tenant: Uuid,
        entry_id: &str,
    ) -> sqlx::Result<Option<StoredEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM points_ledger WHERE tenant_id = $1 AND entry_id = $2 \
               AND kind IN ('redemption', 'adjustment')"
        );
        Ok(on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(Id(tenant)).bind(entry_id).fetch_optional(pool).await?
        }))
    }

    /// A page of a customer's ledger, newest first, before `before` (a seq).
    pub async fn ledger(
        &self,
        tenant: Uuid,
        customer: Uuid,
        before: Option<i64>,
        limit: i64,
    ) -> sqlx::Result<Vec<StoredEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM points_ledger \
              WHERE tenant_id = $1 AND customer_id = $2 AND seq < $3 \
              ORDER BY seq DESC LIMIT $4"
        );
        Ok(on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(Id(tenant))
                .bind(Id(customer))
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Customers (with their tenant) holding points that expired by `now`.
    pub async fn due(&self, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
        let rows: Vec<(Id, Id)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT DISTINCT tenant_id, customer_id FROM points_ledger \
                 WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1 \
                 LIMIT $2",
            )
            .bind(Time(now))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(t, c)| (t.0, c.0)).collect())
    }

    /// Tenants whose programme grants a birthday bonus, with their terms.
    pub async fn birthday_tenants(&self) -> sqlx::Result<Vec<(Uuid, Terms)>> {
        let rows: Vec<(Id, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as("SELECT tenant_id, programme FROM points_programmes")
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(t, json)| Some((t.0, serde_json::from_str::<Terms>(&json).ok()?)))
            .filter(|(_, terms)| terms.birthday_bonus > 0 && !terms.paused)
            .collect())
    }

    /// Claims the tenant's birthday pass of `day` (YYYY-MM-DD): true for the
    /// one worker that does it.
    pub async fn claim_birthdays(&self, tenant: Uuid, day: &str) -> sqlx::Result<bool> {
        let done = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE points_programmes SET birthdays_on = $2 \
                 WHERE tenant_id = $1 AND birthdays_on <> $2",
            )
            .bind(Id(tenant))
            .bind(day)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }
}
