//! Reading a row of either backend in the types this store keeps, so each
//! table's row is decoded by one function: ids and times through the kit's
//! codecs, counts checked to be non-negative.

use chrono::{DateTime, Utc};
use rapport_kit::db::{Id, Time};
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

use crate::{error::Error, model::Status};

/// Typed column reads on a Postgres or SQLite row.
pub(super) trait Columns {
    /// A uuid column.
    fn id(&self, column: &str) -> Result<Uuid, Error>;
    /// A time column.
    fn time(&self, column: &str) -> Result<DateTime<Utc>, Error>;
    /// A nullable time column.
    fn maybe_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, Error>;
    /// A text column.
    fn text(&self, column: &str) -> Result<String, Error>;
    /// A boolean column.
    fn flag(&self, column: &str) -> Result<bool, Error>;
    /// An integer column.
    fn int(&self, column: &str) -> Result<i32, Error>;

    /// An integer column that holds a count, so is never negative.
    fn count(&self, column: &str) -> Result<u32, Error> {
        let n = self.int(column)?;
        u32::try_from(n).map_err(|_| Error::Corrupt(format!("{column} {n} out of range")))
    }

    /// A notification's status column.
    fn status(&self, column: &str) -> Result<Status, Error> {
        let s = self.text(column)?;
        Status::parse(&s).ok_or_else(|| Error::Corrupt(format!("status {s:?}")))
    }
}

impl<R> Columns for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> Id: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Time: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
{
    fn id(&self, column: &str) -> Result<Uuid, Error> {
        Ok(self.try_get::<Id, _>(column)?.0)
    }

    fn time(&self, column: &str) -> Result<DateTime<Utc>, Error> {
        Ok(self.try_get::<Time, _>(column)?.0)
    }

    fn maybe_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, Error> {
        Ok(self.try_get::<Option<Time>, _>(column)?.map(|t| t.0))
    }

    fn text(&self, column: &str) -> Result<String, Error> {
        Ok(self.try_get(column)?)
    }

    fn flag(&self, column: &str) -> Result<bool, Error> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> Result<i32, Error> {
        Ok(self.try_get(column)?)
    }
}

/// A count as an SQL integer; values past `i32::MAX` cannot occur in practice
/// (attempts are few, durations bounded by the timeout) and saturate.
pub(super) fn sql_int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
