//! Interaction events: the columns of their own that a batch insert binds.

use uuid::Uuid;

use super::batch::{PgQuery, SqliteQuery, Table, column};
use crate::{
    change,
    validate::{Row, event::EventBody},
};

impl Table for EventBody {
    const WHAT: &'static str = "event";
    const PARTITIONED: bool = false;
    const CLAIM_KEYS: (&'static str, &'static str) = (
        include_str!("../../sql/postgres/insert_event_keys.sql"),
        include_str!("../../sql/sqlite/insert_event_key.sql"),
    );
    const INSERT: (&'static str, &'static str) = (
        include_str!("../../sql/postgres/insert_events.sql"),
        include_str!("../../sql/sqlite/insert_event.sql"),
    );

    fn change(row: &Row<Uuid, Self>) -> Vec<u8> {
        change::event(row)
    }

    fn bind_columns<'q>(query: PgQuery<'q>, rows: &[&'q Row<Uuid, Self>]) -> PgQuery<'q> {
        query
            .bind(column(rows, |r| r.body.kind.as_str()))
            .bind(column(rows, |r| r.body.properties.as_str()))
    }

    fn bind_values<'q>(query: SqliteQuery<'q>, r: &'q Row<Uuid, Self>) -> SqliteQuery<'q> {
        query.bind(&r.body.kind).bind(&r.body.properties)
    }
}
