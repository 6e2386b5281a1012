//! Opportunity events: the columns of their own that a batch insert binds.
//! Scoring does not take them (no outbox change); a stored batch instead
//! asks for a refit of its tenant in the same transaction.

use rapport_kit::db::Time;
use uuid::Uuid;

use super::{
    batch::{PerBackend, PgQuery, SqliteQuery, Table, column, per_backend},
    totals::Totals,
};
use crate::validate::{Row, opportunity::OpportunityBody};

impl Table for OpportunityBody {
    const WHAT: &'static str = "opportunity event";
    const CLAIM_KEYS: PerBackend = per_backend!(
        "insert_opportunity_event_keys",
        "insert_opportunity_event_key"
    );
    const STORED_KEYS: PerBackend = per_backend!(
        "stored_opportunity_event_keys",
        "stored_opportunity_event_keys"
    );
    const INSERT: PerBackend =
        per_backend!("insert_opportunity_events", "insert_opportunity_event");
    const CHANGE: Option<fn(&Row<Uuid, Self>) -> Vec<u8>> = None;
    const MARK: Option<&'static str> = Some(
        "INSERT INTO opportunity_fits (tenant_id, requested_seq) VALUES ($1, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET requested_seq = opportunity_fits.requested_seq + 1",
    );
    const TOTALS: Option<Totals<Self>> = None;

    fn bind_columns<'q>(query: PgQuery<'q>, rows: &[&'q Row<Uuid, Self>]) -> PgQuery<'q> {
        query
            .bind(column(rows, |r| r.body.opportunity_ref.as_str()))
            .bind(column(rows, |r| r.body.kind))
            .bind(column(rows, |r| r.body.stage.as_str()))
            .bind(column(rows, |r| r.body.amount_minor))
            .bind(column(rows, |r| r.body.expected_close))
    }

    fn bind_values<'q>(query: SqliteQuery<'q>, r: &'q Row<Uuid, Self>) -> SqliteQuery<'q> {
        let b = &r.body;
        query
            .bind(&b.opportunity_ref)
            .bind(b.kind)
            .bind(&b.stage)
            .bind(b.amount_minor)
            .bind(b.expected_close.map(Time))
    }
}
