//! GDPR export and erasure of one customer's notifications, for the
//! profiles service's ExportCustomer and EraseCustomer (internal calls
//! only).
//!
//! Erasure, in one transaction: delivery attempts and contact state are
//! deleted; queued notifications (pending or scheduled) are cancelled (they end as dead letters
//! with the reason "cancelled: customer erased", and a worker holding one loses its claim,
//! so it cannot record a delivery); then every notification of the customer
//! is anonymised: the customer id becomes the erasure id and the
//! destination, subject, body, last error and dedupe key are blanked (the
//! dedupe key becomes `erased:<notification id>`). Counts per status keep
//! them. Posts to integration endpoints that carry the customer among
//! others (score change subscriptions) have the customer's id in their body
//! replaced by the erasure id.

use rapport_kit::db::customer_data::{self, Part};
use rapport_proto::v1 as pb;

use super::Call;
use crate::error::Error;

const EXPORT: &[Part] = &[
    Part::same(
        "notifications",
        "SELECT * FROM notifications WHERE tenant_id = $1 AND customer_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3",
    ),
    Part::same(
        "attempts",
        "SELECT * FROM attempts WHERE tenant_id = $1 AND customer_id = $2 \
         ORDER BY started_at DESC, notification_id, number DESC LIMIT $3",
    ),
    Part::same(
        "contact_state",
        "SELECT * FROM contact_state WHERE tenant_id = $1 AND customer_id = $2 LIMIT $3",
    ),
];

const ERASE: &[Part] = &[
    Part::same(
        "attempts_deleted",
        "DELETE FROM attempts WHERE tenant_id = $1 AND customer_id = $2",
    ),
    Part::same(
        "contact_state_deleted",
        "DELETE FROM contact_state WHERE tenant_id = $1 AND customer_id = $2",
    ),
    Part::same(
        "queued_cancelled",
        "UPDATE notifications SET status = 'dead_letter', next_attempt_at = NULL, \
         locked_until = NULL, lease_id = NULL, last_error = 'cancelled: customer erased' \
         WHERE tenant_id = $1 AND customer_id = $2 AND status IN ('pending', 'scheduled')",
    ),
    Part::same(
        "anonymised",
        "UPDATE notifications SET customer_id = $3, destination = '', subject = '', body = '', \
         dedupe_key = 'erased:' || id, \
         last_error = CASE WHEN last_error = 'cancelled: customer erased' \
                      THEN last_error ELSE '' END \
         WHERE tenant_id = $1 AND customer_id = $2",
    ),
    // Posts to integration endpoints about many customers (score change
    // subscriptions) name this one only inside their body: its id there
    // becomes the erasure id, and the rest of the post stays deliverable.
    Part {
        name: "integration_posts_anonymised",
        postgres: "UPDATE notifications SET body = replace(body, $2::text, $3::text) \
                   WHERE tenant_id = $1 AND integration_endpoint <> '' \
                     AND strpos(body, $2::text) > 0",
        sqlite: "UPDATE notifications SET body = replace(body, $2, $3) \
                 WHERE tenant_id = $1 AND integration_endpoint <> '' AND instr(body, $2) > 0",
    },
];

/// ExportCustomerNotifications.
pub(super) async fn export(
    c: Call<'_>,
    req: pb::ExportCustomerNotificationsRequest,
) -> Result<pb::ExportCustomerNotificationsResponse, Error> {
    c.ctx.require_internal()?;
    let customer = customer_data::parse_id("customer_id", &req.customer_id)?;
    let db = c.repo.db();
    let (json, truncated) =
        customer_data::export_json(db, EXPORT, c.tenant, customer, req.limit).await?;
    Ok(pb::ExportCustomerNotificationsResponse { json, truncated })
}

/// EraseCustomerNotifications.
pub(super) async fn erase(
    c: Call<'_>,
    req: pb::EraseCustomerNotificationsRequest,
) -> Result<pb::EraseCustomerNotificationsResponse, Error> {
    c.ctx.require_internal()?;
    let customer = customer_data::parse_id("customer_id", &req.customer_id)?;
    let erasure = customer_data::parse_id("erasure_id", &req.erasure_id)?;
    let db = c.repo.db();
    let counts = customer_data::erase_counts(db, ERASE, c.tenant, customer, erasure).await?;
    tracing::info!(%erasure, rows = counts.values().sum::<u64>(), "customer notifications erased");
    Ok(pb::EraseCustomerNotificationsResponse { counts })
}
