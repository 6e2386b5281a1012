//! Reading notifications back: ids and newest-first pages, whose tokens
//! carry the (created_at, id) of the last row served.

use rapport_kit::{
    FieldErrors,
    domain::{parse_uuid, to_micros},
    paging,
};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use crate::{
    error::{Error, valid},
    repo::Cursor,
};

/// Parses a notification id.
pub fn notification_id(id: &str) -> Result<Uuid, Error> {
    parse_uuid(id).map_err(|reason| Error::invalid("notification_id", reason))
}

/// A parsed list request.
#[derive(Debug, Clone, Copy)]
pub struct ListQuery {
    /// Only this customer's notifications, when given.
    pub customer: Option<Uuid>,
    /// Rows per page.
    pub page_size: u32,
    /// Where the page starts.
    pub after: Cursor,
}

/// Parses a list request.
pub fn list_request(req: &pb::ListNotificationsRequest) -> Result<ListQuery, Error> {
    let mut errors = FieldErrors::new();
    let customer = if req.customer_id.is_empty() {
        None
    } else {
        errors.check("customer_id", parse_uuid(&req.customer_id))
    };
    let page_size = errors.check("page_size", paging::page_size(req.page_size));
    let after = errors.check("page_token", page_token(&req.page_token));
    valid(errors)?;
    Ok(ListQuery {
        customer,
        page_size: page_size.unwrap_or(paging::DEFAULT_PAGE_SIZE),
        after: after.unwrap_or_else(Cursor::start),
    })
}

/// The token of the page after the one ending with this cursor.
pub fn next_page_token(last: Cursor) -> String {
    paging::encode_token(&format!("{}|{}", to_micros(last.created_at), last.id))
}

pub(super) fn page_token(token: &str) -> Result<Cursor, String> {
    let bad = || "is not a page token this service issued".to_owned();
    let Some(cursor) = paging::decode_token(token)? else {
        return Ok(Cursor::start());
    };
    let (micros, id) = cursor.split_once('|').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok(Cursor {
        created_at: rapport_kit::domain::from_micros(micros),
        id,
    })
}
