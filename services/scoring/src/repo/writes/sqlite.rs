//! SQLite: a prepared (and cached) statement per row, run in process.

use std::collections::HashSet;

use rapport_kit::{
    db::{Id, Time},
    domain::to_micros,
};
use sqlx::{SqliteConnection, query::Query, sqlite::SqliteArguments};

use super::{Call, Claimed, Scored, Work, Writes, category_rows, day_rows, month_rows};
use crate::{
    aggregates::{changes::Change, delta::Delta},
    dedupe::day,
    repo::rows::ScoreRow,
};

type SqliteQuery<'q> = Query<'q, sqlx::Sqlite, SqliteArguments<'q>>;

/// Runs `sql` once per row of `rows`, with the parameters `bind` gives it.
async fn per_row<'q, T>(
    conn: &mut SqliteConnection,
    sql: &'q str,
    rows: impl IntoIterator<Item = T>,
    bind: impl Fn(SqliteQuery<'q>, T) -> SqliteQuery<'q>,
) -> Result<(), sqlx::Error> {
    for row in rows {
        bind(sqlx::query(sql), row).execute(&mut *conn).await?;
    }
    Ok(())
}

impl Writes for SqliteConnection {
    async fn claim(&mut self, call: &Call<'_>, changes: &[Change]) -> sqlx::Result<Claimed> {
        let mut fresh = HashSet::new();
        for c in changes {
            let done = sqlx::query(include_str!("../../../sql/sqlite/claim_change.sql"))
                .bind(Id(call.tenant))
                .bind(&c.id)
                .bind(Id(c.customer_id))
                .bind(Time(call.now))
                .bind(day::number(day::of(&c.id)))
                .execute(&mut *self)
                .await?;
            if done.rows_affected() == 1 {
                fresh.insert(c.id.clone());
            }
        }
        Ok(fresh)
    }

    async fn add_history(&mut self, call: &Call<'_>, deltas: &[Delta]) -> sqlx::Result<()> {
        let tenant = Id(call.tenant);
        let sql = include_str!("../../../sql/sqlite/upsert_day.sql");
        per_row(
            self,
            sql,
            day_rows(deltas),
            |q, (c, day, purchases, amount)| {
                q.bind(tenant)
                    .bind(Id(c))
                    .bind(day)
                    .bind(purchases)
                    .bind(amount)
            },
        )
        .await?;
        let sql = include_str!("../../../sql/sqlite/upsert_month.sql");
        per_row(
            self,
            sql,
            month_rows(deltas),
            |q, (c, month, net, margin, n)| {
                q.bind(tenant)
                    .bind(Id(c))
                    .bind(month)
                    .bind(net)
                    .bind(margin)
                    .bind(n)
            },
        )
        .await
    }

    async fn add_categories(&mut self, call: &Call<'_>, deltas: &[Delta]) -> sqlx::Result<()> {
        let tenant = Id(call.tenant);
        let sql = include_str!("../../../sql/sqlite/upsert_category.sql");
        per_row(
            self,
            sql,
            category_rows(deltas),
            |q, (c, category, purchases, net)| {
                q.bind(tenant)
                    .bind(Id(c))
                    .bind(category)
                    .bind(purchases)
                    .bind(net)
            },
        )
        .await
    }

    async fn add_scores(&mut self, call: &Call<'_>, new: &[Scored]) -> sqlx::Result<Vec<ScoreRow>> {
        // How a row takes a further change is one text for both backends.
        let sql = concat!(
            include_str!("../../../sql/sqlite/insert_score.sql"),
            include_str!("../../../sql/score_conflict.sql"),
        );
        let mut written = Vec::with_capacity(new.len());
        for (d, (days, weeks, first_day, first_week)) in new {
            let row = sqlx::query_as(sql)
                .bind(Id(call.tenant))
                .bind(Id(d.customer_id))
                .bind(d.first_purchase_at.map(Time))
                .bind(d.last_purchase_at.map(Time))
                .bind(d.purchase_count)
                .bind(d.refund_count)
                .bind(d.purchase_total)
                .bind(d.refund_total)
                .bind(call.currency)
                .bind(d.last_interaction_at.map(Time))
                .bind(d.interaction_count)
                .bind(Time(call.now))
                .bind(days)
                .bind(weeks)
                .bind(first_day)
                .bind(first_week)
                .bind(d.margin_total)
                .fetch_one(&mut *self)
                .await?;
            written.push(row);
        }
        Ok(written)
    }

    async fn enqueue(&mut self, call: &Call<'_>, work: &Work<'_>) -> sqlx::Result<()> {
        // Most tenants have no rules: one look instead of a statement per row.
        let tenant = call.tenant.to_string();
        let has_rules: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM rules WHERE tenant_id = $1 AND enabled \
             AND published_version > 0)",
        )
        .bind(&tenant)
        .fetch_one(&mut *self)
        .await?;
        if !has_rules {
            return Ok(());
        }
        let sql = include_str!("../../../sql/sqlite/rules_enqueue.sql");
        per_row(self, sql, work.rows(call), |q, (id, customer, event)| {
            q.bind(tenant.as_str())
                .bind(id)
                .bind(customer.to_string())
                .bind(event)
                .bind(to_micros(call.now))
        })
        .await
    }
}
