//! A place in a tenant's change log and the opaque resume token that names
//! it. Positions are (transaction id, sequence) on Postgres and (0, rowid)
//! on SQLite: both sort in commit order once below the read horizon.

use rapport_kit::paging::{decode_token, encode_token};

/// After every event at or before this position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// The writing transaction's id (`xid8` as a number); 0 on SQLite.
    pub xid: i64,
    /// The row's sequence number within the log.
    pub seq: i64,
}

/// Marks a token as a resume token of this log (and its format's version).
const PREFIX: &str = "sc1";

impl Position {
    /// The opaque token of this position.
    pub fn token(self) -> String {
        encode_token(&format!("{PREFIX}:{}:{}", self.xid, self.seq))
    }

    /// The position a token made by [`Position::token`] names; `None` for an
    /// empty token, the reason for one this service did not issue.
    pub fn parse(token: &str) -> Result<Option<Position>, String> {
        let bad = || "is not a resume token this service issued".to_owned();
        let Some(cursor) = decode_token(token).map_err(|_| bad())? else {
            return Ok(None);
        };
        let mut parts = cursor.split(':');
        let (Some(PREFIX), Some(xid), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        match (xid.parse(), seq.parse()) {
            (Ok(xid), Ok(seq)) if xid >= 0 && seq >= 0 => Ok(Some(Position { xid, seq })),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_order_by_transaction_first() {
        let p = Position { xid: 812, seq: 4 };
        assert_eq!(Position::parse(&p.token()), Ok(Some(p)));
        assert_eq!(Position::parse(""), Ok(None));
        for bad in [
            "zz",
            &encode_token("sc1:1"),
            &encode_token("sc1:-1:2"),
            &encode_token("x:1:2"),
        ] {
            assert!(Position::parse(bad).is_err(), "{bad}");
        }
        assert!(Position { xid: 2, seq: 1 } > Position { xid: 1, seq: 9 });
    }
}
