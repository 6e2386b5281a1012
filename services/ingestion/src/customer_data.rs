//! GDPR export and erasure of one customer's activity, for the profiles
//! service's ExportCustomer and EraseCustomer (internal calls only).
//!
//! The dedupe keys (`transaction_keys`, `event_keys`) stay: they hold the
//! source's id of a transaction or event and Rapport's row id, nothing of
//! the customer, and keeping them makes a row replayed after the erasure a
//! duplicate instead of storing it again. A replay naming the customer by
//! an external id creates no customer either: ingestion checks the keys of
//! rows whose customer is unknown before asking Profiles to create it. The
//! same holds for `opportunity_event_keys`.

use rapport_kit::{
    TenantContext,
    db::customer_data::{self, Part},
};
use rapport_proto::v1::{
    EraseCustomerActivityRequest, EraseCustomerActivityResponse, ExportCustomerActivityRequest,
    ExportCustomerActivityResponse,
};
use tonic::{Request, Status};

use crate::ingest::Ingest;

const EXPORT: &[Part] = &[
    Part::same(
        "transactions",
        "SELECT * FROM transactions WHERE tenant_id = $1 AND customer_id = $2 \
         ORDER BY occurred_at DESC, id DESC LIMIT $3",
    ),
    Part::same(
        "events",
        "SELECT * FROM events WHERE tenant_id = $1 AND customer_id = $2 \
         ORDER BY occurred_at DESC, id DESC LIMIT $3",
    ),
    Part::same(
        "opportunity_events",
        "SELECT * FROM opportunity_events WHERE tenant_id = $1 AND customer_id = $2 \
         ORDER BY occurred_at DESC, id DESC LIMIT $3",
    ),
    Part::same(
        "opportunities",
        "SELECT * FROM opportunities WHERE tenant_id = $1 AND customer_id = $2 \
         ORDER BY source, opportunity_ref LIMIT $3",
    ),
];

const ERASE: &[Part] = &[
    Part::same(
        "transactions",
        "DELETE FROM transactions WHERE tenant_id = $1 AND customer_id = $2",
    ),
    Part::same(
        "events",
        "DELETE FROM events WHERE tenant_id = $1 AND customer_id = $2",
    ),
    Part::same(
        "customer_totals",
        "DELETE FROM customer_totals WHERE tenant_id = $1 AND customer_id = $2",
    ),
    // First the tenant's refit row: a refit storing its snapshot updates it
    // too, so the two take turns, and whichever comes second sees the
    // other (the refit drops what it read of an erased account). The
    // request also refits the tenant soon, so the tier roll-ups stop
    // counting the customer.
    Part {
        name: "opportunity_refit_requested",
        postgres: "UPDATE opportunity_fits SET requested_seq = requested_seq + 1 \
                   WHERE tenant_id = $1 AND EXISTS (SELECT 1 FROM opportunity_events \
                   WHERE tenant_id = $1 AND customer_id = $2)",
        sqlite: "UPDATE opportunity_fits SET requested_seq = requested_seq + 1 \
                 WHERE tenant_id = $1 AND EXISTS (SELECT 1 FROM opportunity_events \
                 WHERE tenant_id = $1 AND customer_id = $2)",
    },
    Part::same(
        "opportunity_events",
        "DELETE FROM opportunity_events WHERE tenant_id = $1 AND customer_id = $2",
    ),
    Part::same(
        "opportunities",
        "DELETE FROM opportunities WHERE tenant_id = $1 AND customer_id = $2",
    ),
    // The roll-up rows keyed by the customer, as an account or as a parent
    // account; the tier rows keep counting it until the next refit, as
    // tenant totals do.
    Part {
        name: "opportunity_rollups",
        postgres: "DELETE FROM opportunity_rollups WHERE tenant_id = $1 \
                   AND level IN ('account', 'parent') AND key = $2::text",
        sqlite: "DELETE FROM opportunity_rollups WHERE tenant_id = $1 \
                 AND level IN ('account', 'parent') AND key = $2",
    },
    // Changes not yet delivered to scoring; one already in flight is erased
    // there by the scoring part, which runs after this one.
    Part::same(
        "outbox",
        "DELETE FROM outbox WHERE tenant_id = $1 AND customer_id = $2",
    ),
];

impl Ingest {
    /// ExportCustomerActivity: the customer's transactions and events.
    pub(crate) async fn export_customer(
        &self,
        request: Request<ExportCustomerActivityRequest>,
    ) -> Result<ExportCustomerActivityResponse, Status> {
        let ctx = TenantContext::of(&request)?;
        ctx.require_internal()?;
        let req = request.get_ref();
        let customer = customer_data::parse_id("customer_id", &req.customer_id)?;
        let db = self.repo.db();
        let (json, truncated) =
            customer_data::export_json(db, EXPORT, ctx.tenant_id(), customer, req.limit).await?;
        Ok(ExportCustomerActivityResponse { json, truncated })
    }

    /// EraseCustomerActivity: the customer's rows deleted in one transaction.
    pub(crate) async fn erase_customer(
        &self,
        request: Request<EraseCustomerActivityRequest>,
    ) -> Result<EraseCustomerActivityResponse, Status> {
        let ctx = TenantContext::of(&request)?;
        ctx.require_internal()?;
        let req = request.get_ref();
        let customer = customer_data::parse_id("customer_id", &req.customer_id)?;
        let erasure = customer_data::parse_id("erasure_id", &req.erasure_id)?;
        let db = self.repo.db();
        let counts =
            customer_data::erase_counts(db, ERASE, ctx.tenant_id(), customer, erasure).await?;
        tracing::info!(%erasure, rows = counts.values().sum::<u64>(), "customer activity erased");
        Ok(EraseCustomerActivityResponse { counts })
    }
}
