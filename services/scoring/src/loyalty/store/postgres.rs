//! Postgres: each table's batch as arrays through `UNNEST`, one statement per
//! table whatever the batch size.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Store, reads::AccountRow};
use crate::loyalty::ledger::{Account, Lot, Posting, Row};

impl Store for PgConnection {
    async fn lock_accounts(
        &mut self,
        tenant: Uuid,
        customers: &[Uuid],
        open: bool,
        now: DateTime<Utc>,
    ) -> sqlx::Result<HashMap<Uuid, Account>> {
        let columns = super::reads::ACCOUNT_COLUMNS;
        // Opening takes one statement: a conflict's no-op update locks the
        // row and returns it, like a new one; in customer order, so
        // concurrent writers lock in the same order.
        let rows: Vec<AccountRow> = if open {
            let sql = format!(
                "INSERT INTO points_accounts (tenant_id, customer_id, updated_at) \
                 SELECT $1, c, $3 FROM UNNEST($2::uuid[]) AS c ORDER BY c \
                 ON CONFLICT (tenant_id, customer_id) \
                 DO UPDATE SET updated_at = points_accounts.updated_at \
                 RETURNING {columns}"
            );
            sqlx::query_as(&sql)
                .bind(tenant)
                .bind(customers)
                .bind(now)
                .fetch_all(&mut *self)
                .await?
        } else {
            let sql = format!(
                "SELECT {columns} FROM points_accounts \
                 WHERE tenant_id = $1 AND customer_id = ANY($2) \
                 ORDER BY customer_id FOR UPDATE"
            );
            sqlx::query_as(&sql)
                .bind(tenant)
                .bind(customers)
                .fetch_all(&mut *self)
                .await?
        };
        Ok(rows.into_iter().map(AccountRow::split).collect())
    }

    async fn lots(&mut self, tenant: Uuid, customers: &[Uuid]) -> sqlx::Result<Vec<(Uuid, Lot)>> {
        let rows: Vec<(Uuid, i64, i64, Option<DateTime<Utc>>)> = sqlx::query_as(
            "SELECT customer_id, seq, remaining, expires_at FROM points_ledger \
             WHERE tenant_id = $1 AND customer_id = ANY($2) AND remaining > 0",
        )
        .bind(tenant)
        .bind(customers)
        .fetch_all(&mut *self)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(c, seq, remaining, expires_at)| {
                (
                    c,
                    Lot {
                        seq,
                        remaining,
                        expires_at,
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
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT customer_id, entry_id FROM points_ledger \
             WHERE tenant_id = $1 AND customer_id = ANY($2) AND entry_id = ANY($3)",
        )
        .bind(tenant)
        .bind(customers)
        .bind(entry_ids)
        .fetch_all(&mut *self)
        .await?;
        Ok(rows.into_iter().collect())
    }

    async fn write(
        &mut self,
        tenant: Uuid,
        postings: &[(Uuid, Posting)],
        now: DateTime<Utc>,
    ) -> sqlx::Result<()> {
        let rows: Vec<(Uuid, &Row)> = postings
            .iter()
            .flat_map(|(c, p)| p.rows.iter().map(move |r| (*c, r)))
            .collect();
        if !rows.is_empty() {
            let col = |f: &dyn Fn(&(Uuid, &Row)) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
            sqlx::query(include_str!("../../../sql/postgres/points_insert_rows.sql"))
                .bind(tenant)
                .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .bind(col(&|r| r.1.seq))
                .bind(
                    rows.iter()
                        .map(|r| r.1.entry.entry_id.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|r| r.1.entry.kind.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(col(&|r| r.1.entry.points))
                .bind(col(&|r| r.1.balance_after))
                .bind(
                    rows.iter()
                        .map(|r| r.1.entry.occurred_at)
                        .collect::<Vec<_>>(),
                )
                .bind(now)
                .bind(
                    rows.iter()
                        .map(|r| r.1.entry.expires_at)
                        .collect::<Vec<_>>(),
                )
                .bind(col(&|r| r.1.remaining))
                .bind(
                    rows.iter()
                        .map(|r| r.1.entry.reason.as_str())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    rows.iter()
                        .map(|r| r.1.entry.request.as_str())
                        .collect::<Vec<_>>(),
                )
                .execute(&mut *self)
                .await?;
        }
        let lots: Vec<(Uuid, &Lot)> = postings
            .iter()
            .flat_map(|(c, p)| p.lots.iter().map(move |l| (*c, l)))
            .collect();
        if !lots.is_empty() {
            sqlx::query(
                "UPDATE points_ledger AS l SET remaining = u.remaining \
                 FROM UNNEST($2::uuid[], $3::bigint[], $4::bigint[]) AS u(customer_id, seq, remaining) \
                 WHERE l.tenant_id = $1 AND l.customer_id = u.customer_id AND l.seq = u.seq",
            )
            .bind(tenant)
            .bind(lots.iter().map(|l| l.0).collect::<Vec<_>>())
            .bind(lots.iter().map(|l| l.1.seq).collect::<Vec<_>>())
            .bind(lots.iter().map(|l| l.1.remaining).collect::<Vec<_>>())
            .execute(&mut *self)
            .await?;
        }
        if !postings.is_empty() {
            let a = |f: &dyn Fn(&Account) -> i64| {
                postings
                    .iter()
                    .map(|(_, p)| f(&p.account))
                    .collect::<Vec<i64>>()
            };
            sqlx::query(include_str!(
                "../../../sql/postgres/points_update_accounts.sql"
            ))
            .bind(tenant)
            .bind(postings.iter().map(|p| p.0).collect::<Vec<_>>())
            .bind(a(&|x| x.balance))
            .bind(a(&|x| x.earned))
            .bind(a(&|x| x.accrued))
            .bind(a(&|x| x.reversed))
            .bind(a(&|x| x.redeemed))
            .bind(a(&|x| x.expired))
            .bind(a(&|x| x.adjusted))
            .bind(a(&|x| x.entries))
            .bind(
                postings
                    .iter()
                    .map(|p| p.1.account.birthday_year)
                    .collect::<Vec<i32>>(),
            )
            .bind(
                postings
                    .iter()
                    .map(|p| p.1.account.welcomed)
                    .collect::<Vec<bool>>(),
            )
            .bind(now)
            .execute(&mut *self)
            .await?;
        }
        Ok(())
    }
}
