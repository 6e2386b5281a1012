//! GDPR export and erasure of what scoring holds on one customer, for the
//! profiles service's ExportCustomer and EraseCustomer (internal calls
//! only).
//!
//! Erasure deletes the customer's aggregates (per-category ones among
//! them), score history (the change feed's events about them),
//! memberships, marks, rule states, rule errors, queued rule work, dead letters and
//! loyalty points (ledger and balance), and
//! anonymises what tenant totals count: rule firings (the rule's firing
//! count keeps them) and applied change ids (a change redelivered after the
//! erasure stays a duplicate and re-creates nothing). Then the cache entry
//! goes.

use rapport_kit::{
    TenantContext,
    db::customer_data::{self, Part},
};
use rapport_proto::v1::{
    EraseCustomerScoresRequest, EraseCustomerScoresResponse, ExportCustomerScoresRequest,
    ExportCustomerScoresResponse,
};
use tonic::Status;

use crate::scores::Scores;

/// `SELECT *` of one table for the customer, newest first.
macro_rules! select {
    ($name:literal, $table:literal, $order:literal) => {
        Part::same(
            $name,
            concat!(
                "SELECT * FROM ",
                $table,
                " WHERE tenant_id = $1 AND customer_id = $2 ORDER BY ",
                $order,
                " LIMIT $3"
            ),
        )
    };
}

/// `DELETE` of the customer's rows of one table.
macro_rules! delete {
    ($table:literal) => {
        Part::same(
            $table,
            concat!(
                "DELETE FROM ",
                $table,
                " WHERE tenant_id = $1 AND customer_id = $2"
            ),
        )
    };
}

const EXPORT: &[Part] = &[
    select!("score", "customer_scores", "customer_id"),
    select!("monthly", "customer_monthly", "month DESC"),
    select!("days", "customer_days", "day DESC"),
    select!("categories", "customer_categories", "category"),
    select!("membership", "customer_membership", "customer_id"),
    select!(
        "membership_events",
        "membership_events",
        "at DESC, event_id"
    ),
    select!("marks", "customer_marks", "customer_id"),
    select!("firings", "rule_firings", "fired_at DESC, firing_id"),
    select!("score_changes", "score_changes", "seq DESC"),
    select!("points_account", "points_accounts", "customer_id"),
    select!("points_ledger", "points_ledger", "seq DESC"),
];

const ERASE: &[Part] = &[
    delete!("customer_scores"),
    delete!("customer_monthly"),
    delete!("customer_days"),
    delete!("customer_categories"),
    delete!("customer_membership"),
    delete!("membership_events"),
    delete!("customer_marks"),
    delete!("rule_states"),
    delete!("rule_errors"),
    delete!("rules_queue"),
    // Loyalty points: the ledger and the balance.
    delete!("points_ledger"),
    delete!("points_accounts"),
    // The score change feed: a consumer resuming past them just sees fewer
    // events.
    delete!("score_changes"),
    // Kept as sent, as text: the id may be what made the change unusable.
    Part {
        name: "dead_letters",
        postgres: "DELETE FROM dead_letters WHERE tenant_id = $1 AND customer_id = $2::text",
        sqlite: "DELETE FROM dead_letters WHERE tenant_id = $1 AND customer_id = $2",
    },
    Part::same(
        "applied_changes_anonymised",
        "UPDATE applied_changes SET customer_id = $3 WHERE tenant_id = $1 AND customer_id = $2",
    ),
    Part::same(
        "firings_anonymised",
        "UPDATE rule_firings SET customer_id = $3, inputs = '{}' \
         WHERE tenant_id = $1 AND customer_id = $2",
    ),
];

/// ExportCustomerScores.
pub(super) async fn export(
    scores: &Scores,
    ctx: &TenantContext,
    req: &ExportCustomerScoresRequest,
) -> Result<ExportCustomerScoresResponse, Status> {
    ctx.require_internal()?;
    let customer = customer_data::parse_id("customer_id", &req.customer_id)?;
    let db = scores.repo.db();
    let (json, truncated) =
        customer_data::export_json(db, EXPORT, ctx.tenant_id(), customer, req.limit).await?;
    Ok(ExportCustomerScoresResponse { json, truncated })
}

/// EraseCustomerScores: the rows in one transaction, then the cache entry
/// (UNAVAILABLE if the cache does not answer, so the erasure is retried).
pub(super) async fn erase(
    scores: &Scores,
    ctx: &TenantContext,
    req: &EraseCustomerScoresRequest,
) -> Result<EraseCustomerScoresResponse, Status> {
    ctx.require_internal()?;
    let customer = customer_data::parse_id("customer_id", &req.customer_id)?;
    let erasure = customer_data::parse_id("erasure_id", &req.erasure_id)?;
    let (db, tenant) = (scores.repo.db(), ctx.tenant_id());
    let counts = customer_data::erase_counts(db, ERASE, tenant, customer, erasure).await?;
    scores
        .cache
        .forget(tenant, customer)
        .await
        .map_err(|e| Status::unavailable(format!("score cache: {e}; retry")))?;
    tracing::info!(%erasure, rows = counts.values().sum::<u64>(), "customer scores erased");
    Ok(EraseCustomerScoresResponse { counts })
}
