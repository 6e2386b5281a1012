//! The opportunities' storage besides the batch insert: the refit job's
//! lease (`opportunity_fits`), the events it reads, the snapshot it writes,
//! and the index reads the API serves from it. One SQL text for both stores.

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, Time},
    in_tx, on_pool, sql_for,
};
use uuid::Uuid;

/// A roll-up row as selected: key and seven figures.
type RollupTuple = (String, i64, i64, i64, i64, i64, i64, i64);

/// One stored event, as the refit reads it.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub customer: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub source: String,
    pub opportunity_ref: String,
    pub kind: String,
    pub stage: String,
    pub amount_minor: Option<i64>,
    pub expected_close: Option<DateTime<Utc>>,
}

type EventTuple = (
    Id,
    Time,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<Time>,
);

/// One opportunity of the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpportunityRow {
    pub customer: Uuid,
    pub source: String,
    pub opportunity_ref: String,
    pub status: String,
    pub stage: String,
    pub amount_minor: i64,
    pub expected_close: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    pub stage_entered_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub probability: Option<f64>,
    pub expected_value_minor: i64,
    /// JSON of [`super::Explanation`].
    pub explanation: String,
}

type OpportunityTuple = (
    Id,
    String,
    String,
    String,
    String,
    i64,
    Option<Time>,
    Time,
    Time,
    Option<Time>,
    Option<f64>,
    i64,
    String,
);

const OPPORTUNITY_COLUMNS: &str = "customer_id, source, opportunity_ref, status, stage, \
     amount_minor, expected_close, opened_at, stage_entered_at, closed_at, probability, \
     expected_value_minor, explanation";

fn opportunity(t: OpportunityTuple) -> OpportunityRow {
    OpportunityRow {
        customer: t.0.0,
        source: t.1,
        opportunity_ref: t.2,
        status: t.3,
        stage: t.4,
        amount_minor: t.5,
        expected_close: t.6.map(|t| t.0),
        opened_at: t.7.0,
        stage_entered_at: t.8.0,
        closed_at: t.9.map(|t| t.0),
        probability: t.10,
        expected_value_minor: t.11,
        explanation: t.12,
    }
}

/// One row of a roll-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RollupRow {
    pub level: &'static str,
    pub key: String,
    pub accounts: i64,
    pub open_count: i64,
    pub open_amount_minor: i64,
    pub expected_value_minor: i64,
    pub won_count: i64,
    pub won_amount_minor: i64,
    pub lost_count: i64,
}

/// The tenant's refit state.
#[derive(Debug, Clone, Default)]
pub(crate) struct FitRow {
    pub pending: bool,
    pub fitted_at: Option<DateTime<Utc>>,
    /// JSON of [`super::ModelFigures`]; empty before the first refit.
    pub model: String,
}

/// A keyset position in ListOpportunities' order.
pub(crate) type ListCursor = (i64, String, String);

/// Rows per multi-row insert.
const CHUNK: usize = 500;

/// The opportunities' tables.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    db: Db,
}

impl Store {
    pub(crate) fn new(db: Db) -> Self {
        Store { db }
    }

    /// Leases the first tenant whose refit is due to `owner` until `until`:
    /// one conditional update, so of two workers one gets it. The tenant
    /// and the request sequence the refit covers.
    pub(crate) async fn claim(
        &self,
        owner: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> sqlx::Result<Option<(Uuid, i64)>> {
        let due = "requested_seq > fitted_seq AND (lease_until IS NULL OR lease_until < $2)";
        let sql = format!(
            "UPDATE opportunity_fits SET lease_owner = $1, lease_until = $3 \
              WHERE tenant_id = (SELECT tenant_id FROM opportunity_fits WHERE {due} \
                                  ORDER BY tenant_id LIMIT 1) \
                AND {due} \
             RETURNING tenant_id, requested_seq"
        );
        let row: Option<(Id, i64)> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(Id(owner))
                .bind(Time(now))
                .bind(Time(until))
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(t, seq)| (t.0, seq)))
    }

    /// Asks for a refit of every tenant last fitted before `before` with
    /// nothing pending: ages in stage move on without any new event.
    pub(crate) async fn request_stale(&self, before: DateTime<Utc>) -> sqlx::Result<u64> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE opportunity_fits SET requested_seq = requested_seq + 1 \
                  WHERE requested_seq = fitted_seq AND fitted_at < $1",
            )
            .bind(Time(before))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
    }

    /// Every event of `tenant`, opportunity by opportunity, in order.
    pub(crate) async fn events(&self, tenant: Uuid) -> sqlx::Result<Vec<EventRow>> {
        let rows: Vec<EventTuple> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT customer_id, occurred_at, source, opportunity_ref, kind, stage, \
                        amount_minor, expected_close \
                   FROM opportunity_events WHERE tenant_id = $1 \
                  ORDER BY source, opportunity_ref, occurred_at, id",
            )
            .bind(Id(tenant))
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|t| EventRow {
                customer: t.0.0,
                occurred_at: t.1.0,
                source: t.2,
                opportunity_ref: t.3,
                kind: t.4,
                stage: t.5,
                amount_minor: t.6,
                expected_close: t.7.map(|t| t.0),
            })
            .collect())
    }

    /// Replaces `tenant`'s snapshot and ends `owner`'s lease, recording the
    /// sequence `seq` covered, in one transaction; `false` (nothing written)
    /// when the lease is no longer `owner`'s.
    pub(crate) async fn store(
        &self,
        tenant: Uuid,
        owner: Uuid,
        snapshot: Snapshot<'_>,
    ) -> sqlx::Result<bool> {
        let Snapshot {
            seq,
            now,
            model,
            opportunities,
            rollups,
        } = snapshot;
        Ok(in_tx!(&self.db, tx => {
            let held = sqlx::query(
                "UPDATE opportunity_fits \
                    SET fitted_seq = $3, fitted_at = $4, model = $5, \
                        lease_owner = NULL, lease_until = NULL \
                  WHERE tenant_id = $1 AND lease_owner = $2",
            )
            .bind(Id(tenant))
            .bind(Id(owner))
            .bind(seq)
            .bind(Time(now))
            .bind(model)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if held != 1 {
                // Dropped without a commit: rolled back.
                return Ok(false);
            }
            for table in ["opportunities", "opportunity_rollups"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                    .bind(Id(tenant))
                    .execute(&mut *tx)
                    .await?;
            }
            for chunk in opportunities.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::new(format!(
                    "INSERT INTO opportunities (tenant_id, {OPPORTUNITY_COLUMNS}) "
                ));
                q.push_values(chunk, |mut b, o| {
                    b.push_bind(Id(tenant))
                        .push_bind(Id(o.customer))
                        .push_bind(o.source.clone())
                        .push_bind(o.opportunity_ref.clone())
                        .push_bind(o.status.clone())
                        .push_bind(o.stage.clone())
                        .push_bind(o.amount_minor)
                        .push_bind(o.expected_close.map(Time))
                        .push_bind(Time(o.opened_at))
                        .push_bind(Time(o.stage_entered_at))
                        .push_bind(o.closed_at.map(Time))
                        .push_bind(o.probability)
                        .push_bind(o.expected_value_minor)
                        .push_bind(o.explanation.clone());
                });
                q.build().execute(&mut *tx).await?;
            }
            // An account erased while the refit ran: its events are gone, and
            // so must its opportunities be.
            sqlx::query(
                "DELETE FROM opportunities WHERE tenant_id = $1 AND NOT EXISTS ( \
                     SELECT 1 FROM opportunity_events e \
                      WHERE e.tenant_id = opportunities.tenant_id \
                        AND e.customer_id = opportunities.customer_id)",
            )
            .bind(Id(tenant))
            .execute(&mut *tx)
            .await?;
            for chunk in rollups.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO opportunity_rollups (tenant_id, level, key, accounts, \
                     open_count, open_amount_minor, expected_value_minor, won_count, \
                     won_amount_minor, lost_count) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(Id(tenant))
                        .push_bind(r.level)
                        .push_bind(r.key.clone())
                        .push_bind(r.accounts)
                        .push_bind(r.open_count)
                        .push_bind(r.open_amount_minor)
                        .push_bind(r.expected_value_minor)
                        .push_bind(r.won_count)
                        .push_bind(r.won_amount_minor)
                        .push_bind(r.lost_count);
                });
                q.build().execute(&mut *tx).await?;
            }
            // So must its account row of the roll-ups.
            let orphans = sql_for!(
                &self.db,
                postgres = "DELETE FROM opportunity_rollups WHERE tenant_id = $1 \
                            AND level = 'account' AND NOT EXISTS ( \
                                SELECT 1 FROM opportunity_events e \
                                 WHERE e.tenant_id = opportunity_rollups.tenant_id \
                                   AND e.customer_id::text = opportunity_rollups.key)",
                sqlite = "DELETE FROM opportunity_rollups WHERE tenant_id = $1 \
                          AND level = 'account' AND NOT EXISTS ( \
                              SELECT 1 FROM opportunity_events e \
                               WHERE e.tenant_id = opportunity_rollups.tenant_id \
                                 AND e.customer_id = opportunity_rollups.key)",
            );
            sqlx::query(orphans).bind(Id(tenant)).execute(&mut *tx).await?;
            true
        }))
    }

    /// The tenant's refit state.
    pub(crate) async fn fit(&self, tenant: Uuid) -> sqlx::Result<Option<FitRow>> {
        let row: Option<(i64, i64, Option<Time>, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT requested_seq, fitted_seq, fitted_at, model \
                   FROM opportunity_fits WHERE tenant_id = $1",
            )
            .bind(Id(tenant))
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(requested, fitted, at, model)| FitRow {
            pending: requested > fitted,
            fitted_at: at.map(|t| t.0),
            model,
        }))
    }

    /// One opportunity of the snapshot.
    pub(crate) async fn get(
        &self,
        tenant: Uuid,
        source: &str,
        opportunity_ref: &str,
    ) -> sqlx::Result<Option<OpportunityRow>> {
        let sql = format!(
            "SELECT {OPPORTUNITY_COLUMNS} FROM opportunities \
              WHERE tenant_id = $1 AND source = $2 AND opportunity_ref = $3"
        );
        let row: Option<OpportunityTuple> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(Id(tenant))
                .bind(source)
                .bind(opportunity_ref)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(opportunity))
    }

    /// Up to `limit` opportunities, highest expected value first, after
    /// `after`, of one account and one status when given.
    pub(crate) async fn list(
        &self,
        tenant: Uuid,
        filter: (Option<Uuid>, Option<&'static str>),
        after: Option<ListCursor>,
        limit: u32,
    ) -> sqlx::Result<Vec<OpportunityRow>> {
        let (account, status) = filter;
        // Each filter is its own condition, only when given, so the planner
        // sees the index it can use.
        let mut sql = format!(
            "SELECT {OPPORTUNITY_COLUMNS} FROM opportunities WHERE tenant_id = $1 \
               AND (expected_value_minor < $2 OR (expected_value_minor = $2 \
                    AND (source > $3 OR (source = $3 AND opportunity_ref > $4))))"
        );
        let mut next = 6;
        if account.is_some() {
            sql.push_str(" AND customer_id = $6");
            next += 1;
        }
        if status.is_some() {
            sql.push_str(&format!(" AND status = ${next}"));
        }
        sql.push_str(" ORDER BY expected_value_minor DESC, source, opportunity_ref LIMIT $5");
        let (value, source, reference) = after.unwrap_or((i64::MAX, String::new(), String::new()));
        // With no cursor, (MAX, "", "") is before every row: source > "" or
        // a value below MAX.
        let rows: Vec<OpportunityTuple> = on_pool!(&self.db, pool => {
            let mut q = sqlx::query_as(&sql)
                .bind(Id(tenant))
                .bind(value)
                .bind(source.clone())
                .bind(reference.clone())
                .bind(limit as i64);
            if let Some(a) = account {
                q = q.bind(Id(a));
            }
            if let Some(s) = status {
                q = q.bind(s);
            }
            q.fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(opportunity).collect())
    }

    /// Up to `limit` rows of one roll-up level, highest expected value first,
    /// after `after` (expected value, key).
    pub(crate) async fn rollups(
        &self,
        tenant: Uuid,
        level: &'static str,
        after: Option<(i64, String)>,
        limit: u32,
    ) -> sqlx::Result<Vec<RollupRow>> {
        let (value, key) = after.unwrap_or((i64::MAX, String::new()));
        let rows: Vec<RollupTuple> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT key, accounts, open_count, open_amount_minor, expected_value_minor, \
                        won_count, won_amount_minor, lost_count \
                   FROM opportunity_rollups \
                  WHERE tenant_id = $1 AND level = $2 \
                    AND (expected_value_minor < $3 OR (expected_value_minor = $3 AND key > $4)) \
                  ORDER BY expected_value_minor DESC, key LIMIT $5",
            )
            .bind(Id(tenant))
            .bind(level)
            .bind(value)
            .bind(key.clone())
            .bind(limit as i64)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| RollupRow {
                level,
                key: r.0,
                accounts: r.1,
                open_count: r.2,
                open_amount_minor: r.3,
                expected_value_minor: r.4,
                won_count: r.5,
                won_amount_minor: r.6,
                lost_count: r.7,
            })
            .collect())
    }
}

/// What one refit stores.
pub(crate) struct Snapshot<'a> {
    /// The request sequence it covers.
    pub seq: i64,
    pub now: DateTime<Utc>,
    /// JSON of the model's figures.
    pub model: &'a str,
    pub opportunities: &'a [OpportunityRow],
    pub rollups: &'a [RollupRow],
}
