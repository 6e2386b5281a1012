//! Interaction events: the columns of their own that a batch insert binds.

use uuid::Uuid;

use super::{
    batch::{PerBackend, PgQuery, SqliteQuery, Table, column, per_backend},
    totals::Totals,
};
use crate::{
    change,
    validate::{Row, event::EventBody},
};

impl Table for EventBody {
    const WHAT: &'static str = "event";
    const CLAIM_KEYS: PerBackend = per_backend!("insert_event_keys", "insert_event_key");
    const STORED_KEYS: PerBackend = per_backend!("stored_event_keys", "stored_event_keys");
    const INSERT: PerBackend = per_backend!("insert_events", "insert_event");
    const CHANGE: Option<fn(&Row<Uuid, Self>) -> Vec<u8>> = Some(change::event);
    const TOTALS: Option<Totals<Self>> = None;

    fn bind_columns<'q>(query: PgQuery<'q>, rows: &[&'q Row<Uuid, Self>]) -> PgQuery<'q> {
        query
            .bind(column(rows, |r| r.body.kind.as_str()))
            .bind(column(rows, |r| r.body.properties.as_str()))
    }

    fn bind_values<'q>(query: SqliteQuery<'q>, r: &'q Row<Uuid, Self>) -> SqliteQuery<'q> {
        query.bind(&r.body.kind).bind(&r.body.properties)
    }
}
