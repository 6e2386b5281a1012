//! SQLite: a statement per row, run in process (one writer, so the accounts
//! need no lock of their own).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rapport_kit::db::{Id, List, Time};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::{Store, reads::AccountRow};
use crate::loyalty::ledger::{Account, Lot, Posting};

impl Store for SqliteConnection {
    async fn lock_accounts(
        &mut self,
        tenant: Uuid,
        customers: &[Uuid],
        open: bool,
        now: DateTime<Utc>,
    ) -> sqlx::Result<HashMap<Uuid, Account>> {
        if open {
            sqlx::query(
                "INSERT INTO points_accounts (tenant_id, customer_id, updated_at) \
                 SELECT $1, value, $3 FROM json_each($2) WHERE true \
                 ON CONFLICT (tenant_id, customer_id) DO NOTHING",
            )
            .bind(Id(tenant))
            .bind(List(customers))
            .bind(Time(now))
            .execute(&mut *self)
            .await?;
        }
        let sql = format!(
            "SELECT {} FROM points_accounts WHERE tenant_id = $1 \
             AND customer_id IN (SELECT value FROM json_each($2))",
            super::reads::ACCOUNT_COLUMNS
        );
        let rows: Vec<AccountRow> = sqlx::query_as(&sql)
            .bind(Id(tenant))
            .bind(List(customers))
            .fetch_all(&mut *self)
            .await?;
        Ok(rows.into_iter().map(AccountRow::split).collect())
    }

    async fn lots(&mut self, tenant: Uuid, customers: &[Uuid]) -> sqlx::Result<Vec<(Uuid, Lot)>> {
        let rows: Vec<(Id, i64, i64, Option<Time>)> = sqlx::query_as(
            "SELECT customer_id, seq, remaining, expires_at FROM points_ledger \
             WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2)) \
               AND remaining > 0",
        )
        .bind(Id(tenant))
        .bind(List(customers))
        .fetch_all(&mut *self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(c, seq, remaining, expires_at)| {
                (
                    c.0,
                    Lot {
                        seq,
                        remaining,
                        expires_at: expires_at.map(|t| t.0),
                    },
                )
            })
            .collect())
    }

    async fn known(
        &mut self,
        tenant: Uuid,
        customers: &[Uuid],
        entry_ids: &[&str],
    ) -> sqlx::Result<HashSet<(Uuid, String)>> {
        let rows: Vec<(Id, String)> = sqlx::query_as(
            "SELECT customer_id, entry_id FROM points_ledger \
             WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2)) \
               AND entry_id IN (SELECT value FROM json_each($3))",
        )
        .bind(Id(tenant))
        .bind(List(customers))
        .bind(List(entry_ids))
        .fetch_all(&mut *self)
        .await?;
        Ok(rows.into_iter().map(|(c, e)| (c.0, e)).collect())
    }

    async fn write(
        &mut self,
        tenant: Uuid,
        postings: &[(Uuid, Posting)],
        now: DateTime<Utc>,
    ) -> sqlx::Result<()> {
        for (customer, p) in postings {
            for r in &p.rows {
                sqlx::query(
                    "INSERT INTO points_ledger \
                         (tenant_id, customer_id, seq, entry_id, kind, points, balance_after, \
                          occurred_at, recorded_at, expires_at, remaining, reason, request) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(Id(tenant))
                .bind(Id(*customer))
                .bind(r.seq)
                .bind(&r.entry.entry_id)
                .bind(r.entry.kind.as_str())
                .bind(r.entry.points)
                .bind(r.balance_after)
                .bind(Time(r.entry.occurred_at))
                .bind(Time(now))
                .bind(r.entry.expires_at.map(Time))
                .bind(r.remaining)
                .bind(&r.entry.reason)
                .bind(&r.entry.request)
                .execute(&mut *self)
                .await?;
            }
            for l in &p.lots {
                sqlx::query(
                    "UPDATE points_ledger SET remaining = $4 \
                     WHERE tenant_id = $1 AND customer_id = $2 AND seq = $3",
                )
                .bind(Id(tenant))
                .bind(Id(*customer))
                .bind(l.seq)
                .bind(l.remaining)
                .execute(&mut *self)
                .await?;
            }
            let a = &p.account;
            sqlx::query(
                "UPDATE points_accounts SET balance = $3, earned = $4, accrued = $5, \
                     reversed = $6, redeemed = $7, expired = $8, adjusted = $9, entries = $10, \
                     birthday_year = $11, welcomed = $12, updated_at = $13 \
                 WHERE tenant_id = $1 AND customer_id = $2",
            )
            .bind(Id(tenant))
            .bind(Id(*customer))
            .bind(a.balance)
            .bind(a.earned)
            .bind(a.accrued)
            .bind(a.reversed)
            .bind(a.redeemed)
            .bind(a.expired)
            .bind(a.adjusted)
            .bind(a.entries)
            .bind(a.birthday_year)
            .bind(a.welcomed)
            .bind(Time(now))
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }
}
