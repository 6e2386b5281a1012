//! Values that bind and decode natively on either backend, so one SQL text
//! serves both: Postgres keeps `uuid`, `timestamptz` and arrays; SQLite keeps
//! text, integer microseconds and JSON arrays (read with `json_each`).

use chrono::{DateTime, Utc};
use sqlx::{
    Decode, Encode, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef},
    sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef},
};
use uuid::Uuid;

use crate::domain::{from_micros, to_micros};

/// An id: `uuid` on Postgres, its hyphenated text on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id(pub Uuid);

/// An instant: `timestamptz` on Postgres, microseconds since the epoch on
/// SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub DateTime<Utc>);

/// A list bound as one parameter: an array on Postgres (`= ANY($n)`,
/// `unnest($n)`), a JSON array on SQLite (`json_each($n)`), with each item as
/// the backend keeps it (uuids as text, times as microseconds).
#[derive(Debug, Clone, Copy)]
pub struct List<'a, T>(pub &'a [T]);

impl Type<Postgres> for Id {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }
}

impl<'q> Encode<'q, Postgres> for Id {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Uuid as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Id {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <Uuid as Decode<'r, Postgres>>::decode(value).map(Id)
    }
}

impl PgHasArrayType for Id {
    fn array_type_info() -> PgTypeInfo {
        <Uuid as PgHasArrayType>::array_type_info()
    }
}

impl Type<Sqlite> for Id {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for Id {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0.to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Id {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Id(text.parse()?))
    }
}

impl Type<Postgres> for Time {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl<'q> Encode<'q, Postgres> for Time {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Time {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<'r, Postgres>>::decode(value).map(Time)
    }
}

impl PgHasArrayType for Time {
    fn array_type_info() -> PgTypeInfo {
        <DateTime<Utc> as PgHasArrayType>::array_type_info()
    }
}

impl Type<Sqlite> for Time {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for Time {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Sqlite>>::encode(to_micros(self.0), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Time {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<'r, Sqlite>>::decode(value).map(|m| Time(from_micros(m)))
    }
}

/// An item of a [`List`] as SQLite keeps it inside a JSON array.
pub trait JsonItem {
    /// The item as a JSON value.
    fn json(&self) -> serde_json::Value;
}

impl JsonItem for Uuid {
    fn json(&self) -> serde_json::Value {
        serde_json::Value::String(self.to_string())
    }
}

impl JsonItem for Id {
    fn json(&self) -> serde_json::Value {
        self.0.json()
    }
}

impl JsonItem for DateTime<Utc> {
    fn json(&self) -> serde_json::Value {
        to_micros(*self).into()
    }
}

impl JsonItem for Time {
    fn json(&self) -> serde_json::Value {
        self.0.json()
    }
}

impl JsonItem for String {
    fn json(&self) -> serde_json::Value {
        serde_json::Value::String(self.clone())
    }
}

impl JsonItem for &str {
    fn json(&self) -> serde_json::Value {
        serde_json::Value::String((*self).to_owned())
    }
}

impl JsonItem for i64 {
    fn json(&self) -> serde_json::Value {
        (*self).into()
    }
}

impl JsonItem for i32 {
    fn json(&self) -> serde_json::Value {
        (*self).into()
    }
}

impl JsonItem for f64 {
    fn json(&self) -> serde_json::Value {
        serde_json::Number::from_f64(*self).map_or(serde_json::Value::Null, Into::into)
    }
}

impl JsonItem for bool {
    fn json(&self) -> serde_json::Value {
        (*self).into()
    }
}

impl<T: JsonItem> JsonItem for Option<T> {
    fn json(&self) -> serde_json::Value {
        self.as_ref()
            .map_or(serde_json::Value::Null, JsonItem::json)
    }
}

impl<T> Type<Postgres> for List<'_, T>
where
    T: PgHasArrayType,
{
    fn type_info() -> PgTypeInfo {
        T::array_type_info()
    }
}

impl<'q, T> Encode<'q, Postgres> for List<'_, T>
where
    T: for<'e> Encode<'e, Postgres> + Type<Postgres> + PgHasArrayType,
{
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&[T] as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<T> Type<Sqlite> for List<'_, T> {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q, T: JsonItem> Encode<'q, Sqlite> for List<'_, T> {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        let items: Vec<serde_json::Value> = self.0.iter().map(JsonItem::json).collect();
        <String as Encode<'q, Sqlite>>::encode(serde_json::Value::Array(items).to_string(), buf)
    }
}

#[cfg(test)]
mod tests;
