//! Postgres: each table's batch as arrays through `UNNEST`, one statement per
//! table whatever the batch size.

use chrono::NaiveDate;
use rapport_kit::{db::Id, domain::to_micros};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Call, Claimed, Scored, Work, Writes, category_rows, day_rows, month_rows};
use crate::{
    aggregates::{changes::Change, delta::Delta},
    dedupe::day,
    repo::rows::ScoreRow,
};

/// One column of a batch, bound as an array.
fn column<'a, T, U>(items: &'a [T], f: impl Fn(&'a T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

impl Writes for PgConnection {
    async fn claim(&mut self, call: &Call<'_>, changes: &[Change]) -> sqlx::Result<Claimed> {
        // Claimed in id order, so concurrent calls lock in the same order.
        let mut claim: Vec<(&str, Uuid)> = column(changes, |c| (c.id.as_str(), c.customer_id));
        claim.sort_unstable();
        let (ids, customers): (Vec<&str>, Vec<Uuid>) = claim.into_iter().unzip();
        let days: Vec<NaiveDate> = column(&ids, |id| day::of(id));
        let fresh: Vec<String> =
            sqlx::query_scalar(include_str!("../../../sql/postgres/claim_changes.sql"))
                .bind(call.tenant)
                .bind(&ids)
                .bind(&customers)
                .bind(call.now)
                .bind(&days)
                .fetch_all(&mut *self)
                .await?;
        Ok(fresh.into_iter().collect())
    }

    async fn add_history(&mut self, call: &Call<'_>, deltas: &[Delta]) -> sqlx::Result<()> {
        let days: Vec<_> = day_rows(deltas).collect();
        if !days.is_empty() {
            sqlx::query(include_str!("../../../sql/postgres/upsert_days.sql"))
                .bind(call.tenant)
                .bind(column(&days, |d| d.0))
                .bind(column(&days, |d| d.1 as i32))
                .bind(column(&days, |d| d.2))
                .bind(column(&days, |d| d.3))
                .execute(&mut *self)
                .await?;
        }
        let months: Vec<_> = month_rows(deltas).collect();
        if !months.is_empty() {
            sqlx::query(include_str!("../../../sql/postgres/upsert_monthly.sql"))
                .bind(call.tenant)
                .bind(column(&months, |m| m.0))
                .bind(column(&months, |m| m.1))
                .bind(column(&months, |m| m.2))
                .bind(column(&months, |m| m.3))
                .bind(column(&months, |m| m.4))
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }

    async fn add_categories(&mut self, call: &Call<'_>, deltas: &[Delta]) -> sqlx::Result<()> {
        let rows: Vec<_> = category_rows(deltas).collect();
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(include_str!("../../../sql/postgres/upsert_categories.sql"))
            .bind(call.tenant)
            .bind(column(&rows, |r| r.0))
            .bind(column(&rows, |r| r.1))
            .bind(column(&rows, |r| r.2))
            .bind(column(&rows, |r| r.3))
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn add_scores(&mut self, call: &Call<'_>, new: &[Scored]) -> sqlx::Result<Vec<ScoreRow>> {
        // How a row takes a further change is one text for both backends.
        let sql = concat!(
            include_str!("../../../sql/postgres/insert_scores.sql"),
            include_str!("../../../sql/score_conflict.sql"),
        );
        sqlx::query_as(sql)
            .bind(call.tenant)
            .bind(call.currency)
            .bind(call.now)
            .bind(column(new, |r| r.0.customer_id))
            .bind(column(new, |r| r.0.first_purchase_at))
            .bind(column(new, |r| r.0.last_purchase_at))
            .bind(column(new, |r| r.0.purchase_count))
            .bind(column(new, |r| r.0.refund_count))
            .bind(column(new, |r| r.0.purchase_total))
            .bind(column(new, |r| r.0.refund_total))
            .bind(column(new, |r| r.0.last_interaction_at))
            .bind(column(new, |r| r.0.interaction_count))
            .bind(column(new, |r| r.1.0))
            .bind(column(new, |r| r.1.1))
            .bind(column(new, |r| r.1.2))
            .bind(column(new, |r| r.1.3))
            .bind(column(new, |r| r.0.margin_total))
            .fetch_all(&mut *self)
            .await
    }

    async fn enqueue(&mut self, call: &Call<'_>, work: &Work<'_>) -> sqlx::Result<()> {
        // The statement itself skips tenants without a rule to evaluate.
        let work = work.rows(call);
        sqlx::query(include_str!("../../../sql/postgres/rules_enqueue.sql"))
            .bind(Id(call.tenant))
            .bind(column(&work, |w| w.0.as_str()))
            .bind(column(&work, |w| w.1))
            .bind(column(&work, |w| w.2.as_deref()))
            .bind(to_micros(call.now))
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}
