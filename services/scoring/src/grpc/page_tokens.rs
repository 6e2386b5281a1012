//! Pages of a listing: one row more than the page is read, to tell whether
//! another follows, and the last row served becomes the next page's token,
//! made opaque by the kit's encoding. ListScores tokens name their order
//! and row ("net|12345|<customer id>"); fit and rule version lists the last
//! version served.

use rapport_kit::paging;
use uuid::Uuid;

use crate::repo::{Cursor, Order};

/// The first `size` of `rows` (read as `size + 1`) and the token of the page
/// after them, made from the last row served ("" when none follows).
pub fn page<T>(mut rows: Vec<T>, size: u32, token: impl FnOnce(&T) -> String) -> (Vec<T>, String) {
    if rows.len() <= size as usize {
        return (rows, String::new());
    }
    rows.truncate(size as usize);
    let next = rows.last().map(|r| paging::encode_token(&token(r)));
    (rows, next.unwrap_or_default())
}

/// The version in a token of a versions listing (`None` for the first page).
pub fn decode_version(token: &str) -> Result<Option<i64>, String> {
    paging::decode_token(token).and_then(|t| {
        t.map(|v| {
            v.parse::<i64>()
                .map_err(|_| "is not a page token this service issued".to_owned())
        })
        .transpose()
    })
}

/// The token for the page after `cursor`.
pub fn encode(order: Order, cursor: Cursor) -> String {
    let value = cursor.value.map(|v| v.to_string()).unwrap_or_default();
    paging::encode_token(&format!(
        "{}|{value}|{}",
        order.as_str(),
        cursor.customer_id
    ))
}

/// The cursor in `token` (`None` for the first page); refused when the token
/// is not one of ours or belongs to another order.
pub fn decode(order: Order, token: &str) -> Result<Option<Cursor>, String> {
    let Some(text) = paging::decode_token(token)? else {
        return Ok(None);
    };
    let foreign = || "is not a page token this service issued".to_owned();
    let mut parts = text.split('|');
    let (Some(o), Some(value), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(foreign());
    };
    if o != order.as_str() {
        return Err("belongs to a listing in another order_by".to_owned());
    }
    let value = match value {
        "" if order == Order::LastPurchase => None,
        v => Some(v.parse::<i64>().map_err(|_| foreign())?),
    };
    let customer_id = Uuid::parse_str(id).map_err(|_| foreign())?;
    Ok(Some(Cursor { value, customer_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_strangers() {
        let c = Cursor {
            value: Some(-42),
            customer_id: Uuid::new_v4(),
        };
        assert_eq!(
            decode(Order::NetSpend, &encode(Order::NetSpend, c)),
            Ok(Some(c))
        );
        let none = Cursor {
            value: None,
            customer_id: Uuid::new_v4(),
        };
        assert_eq!(
            decode(Order::LastPurchase, &encode(Order::LastPurchase, none)),
            Ok(Some(none))
        );
        assert_eq!(decode(Order::NetSpend, ""), Ok(None));
        assert!(
            decode(Order::PurchaseCount, &encode(Order::NetSpend, c))
                .unwrap_err()
                .contains("order_by")
        );
        assert!(decode(Order::NetSpend, &paging::encode_token("net||x")).is_err());
        assert!(decode(Order::NetSpend, "zz").is_err());
    }

    #[test]
    fn a_page_read_one_row_long_has_a_next_page() {
        assert_eq!(
            page(vec![1, 2], 2, |r| r.to_string()),
            (vec![1, 2], String::new())
        );
        let (rows, next) = page(vec![1, 2, 3], 2, |r| r.to_string());
        assert_eq!(rows, [1, 2]);
        assert_eq!(decode_version(&next), Ok(Some(2)));
        assert_eq!(decode_version(""), Ok(None));
        assert!(decode_version(&paging::encode_token("x")).is_err());
    }
}
