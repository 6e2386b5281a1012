//! What evaluation records per (rule, customer): the match state that makes
//! triggers edges, firings (once per episode) with their actions' outcomes,
//! and failed evaluations.

use std::collections::BTreeMap;

use rapport_kit::{db::Id, on_pool};
use uuid::Uuid;

use super::EvaluationRepo;

/// A firing to record.
pub struct NewFiring<'a> {
    /// Rule id.
    pub rule: &'a str,
    /// Published version evaluated.
    pub version: i64,
    /// Customer.
    pub customer: Uuid,
    /// Stored trigger name.
    pub trigger: &'a str,
    /// Event kind for EVENT rules.
    pub event_kind: &'a str,
    /// Episode key.
    pub episode: &'a str,
    /// Microseconds.
    pub at: i64,
    /// Referenced variables.
    pub inputs: &'a BTreeMap<String, String>,
    /// Control group.
    pub holdout: bool,
}

/// Which firings a listing reads, newest first: of a rule and/or a customer
/// (empty: any), before `before` (fired at, firing id), at most `limit`.
#[derive(Debug, Clone)]
pub struct FiringsQuery {
    /// Rule id or "".
    pub rule: String,
    /// Customer, or any.
    pub customer: Option<Uuid>,
    /// Firings before this (microseconds, id) are listed.
    pub before: (i64, String),
    /// Rows read at most.
    pub limit: u32,
}

/// A recorded firing.
#[derive(Debug, Clone)]
pub struct FiringRow {
    /// Firing id.
    pub id: String,
    /// Rule id.
    pub rule: String,
    /// Version.
    pub version: i64,
    /// Customer.
    pub customer: Uuid,
    /// Stored trigger name.
    pub trigger: String,
    /// Event kind.
    pub event_kind: String,
    /// Episode key.
    pub episode: String,
    /// Microseconds.
    pub fired_at: i64,
    /// JSON map.
    pub inputs: String,
    /// Control group.
    pub holdout: bool,
    /// JSON list of action outcomes.
    pub results: String,
}

type FiringTuple = (
    String,
    String,
    i64,
    Id,
    String,
    String,
    String,
    i64,
    String,
    bool,
    String,
);

impl EvaluationRepo {
    /// Takes the false -> true edge with `episode` unless the state is
    /// already matched; returns the episode the match belongs to (this one,
    /// or the one another evaluation took first).
    pub async fn mark_matched(
        &self,
        tenant: Uuid,
        rule: &str,
        customer: Uuid,
        episode: &str,
        now: i64,
    ) -> Result<String, sqlx::Error> {
        let (t, c) = (Id(tenant), Id(customer));
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../../sql/rules/mark_matched.sql"))
                .bind(t).bind(rule).bind(c).bind(episode).bind(now)
                .execute(pool).await?;
            sqlx::query_scalar(include_str!("../../../sql/rules/select_episode.sql"))
                .bind(t).bind(rule).bind(c)
                .fetch_one(pool).await
        })
    }

    /// Records that the condition does not hold (the next true is an edge).
    pub async fn mark_unmatched(
        &self,
        tenant: Uuid,
        rule: &str,
        customer: Uuid,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../../sql/rules/mark_unmatched.sql"))
                .bind(Id(tenant)).bind(rule).bind(Id(customer)).bind(now)
                .execute(pool).await?;
        });
        Ok(())
    }

    /// Records a firing unless its episode was recorded before; returns the
    /// firing's id, whether it is in the control group (as first recorded)
    /// and whether its actions were already performed.
    pub async fn fire(
        &self,
        tenant: Uuid,
        f: &NewFiring<'_>,
    ) -> Result<(String, bool, bool), sqlx::Error> {
        let t = Id(tenant);
        let c = Id(f.customer);
        let inputs = serde_json::to_string(f.inputs).unwrap_or_else(|_| "{}".into());
        let (id, holdout, results): (String, bool, String) = on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../../sql/rules/insert_firing.sql"))
                .bind(t).bind(Uuid::new_v4().to_string()).bind(f.rule).bind(f.version)
                .bind(c).bind(f.trigger).bind(f.event_kind).bind(f.episode).bind(f.at)
                .bind(&inputs).bind(f.holdout)
                .execute(pool).await?;
            sqlx::query_as(include_str!("../../../sql/rules/select_firing_id.sql"))
                .bind(t).bind(f.rule).bind(c).bind(f.episode)
                .fetch_one(pool).await?
        });
        // Every rule has an action, so a performed firing has a result.
        Ok((id, holdout, results != "[]"))
    }

    /// Stores the outcome of a firing's actions.
    pub async fn set_results(
        &self,
        tenant: Uuid,
        firing: &str,
        results: &[String],
    ) -> Result<(), sqlx::Error> {
        let json = serde_json::to_string(results).unwrap_or_else(|_| "[]".into());
        on_pool!(&self.db, pool => {
            sqlx::query("UPDATE rule_firings SET results = $3 WHERE tenant_id = $1 AND firing_id = $2")
                .bind(Id(tenant)).bind(firing).bind(json)
                .execute(pool).await?;
        });
        Ok(())
    }

    /// The firings `q` asks for, newest first.
    pub async fn firings(
        &self,
        tenant: Uuid,
        q: &FiringsQuery,
    ) -> Result<Vec<FiringRow>, sqlx::Error> {
        let rows: Vec<FiringTuple> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../../sql/rules/list_firings.sql"))
                .bind(Id(tenant)).bind(&q.rule).bind(q.customer.map(Id))
                .bind(q.before.0).bind(&q.before.1).bind(i64::from(q.limit))
                .fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|r| FiringRow {
                id: r.0,
                rule: r.1,
                version: r.2,
                customer: r.3.0,
                trigger: r.4,
                event_kind: r.5,
                episode: r.6,
                fired_at: r.7,
                inputs: r.8,
                holdout: r.9,
                results: r.10,
            })
            .collect())
    }

    /// Records a failed evaluation.
    pub async fn error(
        &self,
        tenant: Uuid,
        rule: &str,
        version: i64,
        customer: Uuid,
        at: i64,
        message: &str,
    ) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../../sql/rules/insert_error.sql"))
                .bind(Id(tenant)).bind(rule).bind(version).bind(Id(customer))
                .bind(at).bind(message)
                .execute(pool).await?;
        });
        Ok(())
    }
}
