//! Postgres: each table's batch as arrays through `UNNEST`, one statement per
//! table whatever the batch size.

use std::collections::{HashMap, HashSet};

use rapport_kit::domain::to_micros;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Call, Periods, Writes, day_rows, month_rows};
use crate::{
    changes::{Change, Delta},
    repo::rows::ScoreRow,
    rules::enqueue::QueueRow,
};

/// One column of a batch, bound as an array.
fn column<'a, T, U>(items: &'a [T], f: impl Fn(&'a T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

impl Writes for PgConnection {
    async fn claim(
        &mut self,
        call: &Call<'_>,
        changes: &[Change],
    ) -> Result<HashSet<String>, sqlx::Error> {
        // Claimed in id order, so concurrent calls lock in the same order.
        let mut claim: Vec<(&str, Uuid)> = column(changes, |c| (c.id.as_str(), c.customer_id));
        claim.sort_unstable();
        let (ids, customers): (Vec<&str>, Vec<Uuid>) = claim.into_iter().unzip();
        let fresh: Vec<String> =
            sqlx::query_scalar(include_str!("../../../sql/postgres/claim_changes.sql"))
                .bind(call.tenant)
                .bind(&ids)
                .bind(&customers)
                .bind(call.now)
                .fetch_all(&mut *self)
                .await?;
        Ok(fresh.into_iter().collect())
    }

    async fn add_history(&mut self, call: &Call<'_>, deltas: &[Delta]) -> Result<(), sqlx::Error> {
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

    async fn add_scores(
        &mut self,
        call: &Call<'_>,
        deltas: &[Delta],
        periods: &HashMap<Uuid, Periods>,
    ) -> Result<Vec<ScoreRow>, sqlx::Error> {
        let period = |d: &Delta| periods.get(&d.customer_id).copied().unwrap_or_default();
        // How a row takes a further change is one text for both backends.
        let sql = concat!(
            include_str!("../../../sql/postgres/insert_scores.sql"),
            include_str!("../../../sql/score_conflict.sql"),
        );
        sqlx::query_as(sql)
            .bind(call.tenant)
            .bind(call.currency)
            .bind(call.now)
            .bind(column(deltas, |d| d.customer_id))
            .bind(column(deltas, |d| d.first_purchase_at))
            .bind(column(deltas, |d| d.last_purchase_at))
            .bind(column(deltas, |d| d.purchase_count))
            .bind(column(deltas, |d| d.refund_count))
            .bind(column(deltas, |d| d.purchase_total))
            .bind(column(deltas, |d| d.refund_total))
            .bind(column(deltas, |d| d.last_interaction_at))
            .bind(column(deltas, |d| d.interaction_count))
            .bind(column(deltas, |d| period(d).0))
            .bind(column(deltas, |d| period(d).1))
            .bind(column(deltas, |d| period(d).2))
            .bind(column(deltas, |d| period(d).3))
            .bind(column(deltas, |d| d.margin_total))
            .fetch_all(&mut *self)
            .await
    }

    async fn enqueue(
        &mut self,
        call: &Call<'_>,
        work: impl FnOnce() -> Vec<QueueRow> + Send,
    ) -> Result<(), sqlx::Error> {
        // The statement itself skips tenants without a rule to evaluate.
        let work = work();
        sqlx::query(include_str!("../../../sql/postgres/rules_enqueue.sql"))
            .bind(call.tenant.to_string())
            .bind(column(&work, |w| w.0.as_str()))
            .bind(column(&work, |w| w.1.to_string()))
            .bind(column(&work, |w| w.2.as_deref()))
            .bind(to_micros(call.now))
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}
