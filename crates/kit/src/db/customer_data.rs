//! One customer's rows in a service's store, for GDPR export and erasure:
//! each service lists its statements ([`Part`]) and these run them the same
//! way on either backend.
//!
//! Every statement binds `$1` the tenant and `$2` the customer (both as
//! [`Id`]); an export statement binds `$3` the row cap (plus one, to tell a
//! cut list), an erase statement binds `$3` the erasure id when it uses it.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::{Column, Row, TypeInfo, ValueRef};
use uuid::Uuid;

use super::{Db, Id};
use crate::{in_tx, on_pool};

/// Rows a list holds at most in an export, unless the caller asks fewer.
pub const EXPORT_CAP: u32 = 5_000;

/// One statement, in each backend's dialect (usually the same text).
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// The section (export) or count (erase) it fills: "transactions".
    pub name: &'static str,
    /// Postgres text.
    pub postgres: &'static str,
    /// SQLite text.
    pub sqlite: &'static str,
}

impl Part {
    /// A statement both backends run as written.
    pub const fn same(name: &'static str, sql: &'static str) -> Part {
        Part {
            name,
            postgres: sql,
            sqlite: sql,
        }
    }

    fn sql(&self, db: &Db) -> &'static str {
        match db {
            Db::Postgres(_) => self.postgres,
            Db::Sqlite(_) => self.sqlite,
        }
    }
}

/// The rows each export statement selects for `customer` of `tenant`, at
/// most `cap` each (0: [`EXPORT_CAP`]), as `{name: [row, ...]}` with
/// `tenant_id` left out of each row; and whether any list was cut.
pub async fn export(
    db: &Db,
    parts: &[Part],
    tenant: Uuid,
    customer: Uuid,
    cap: u32,
) -> Result<(Map<String, Value>, bool), sqlx::Error> {
    let cap = if cap == 0 {
        EXPORT_CAP
    } else {
        cap.min(EXPORT_CAP)
    };
    let mut out = Map::new();
    let mut truncated = false;
    for part in parts {
        let sql = part.sql(db);
        let mut rows: Vec<Value> = on_pool!(db, pool => {
            sqlx::query(sql)
                .bind(Id(tenant))
                .bind(Id(customer))
                .bind(i64::from(cap) + 1)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    let mut object = Map::new();
                    for (i, column) in row.columns().iter().enumerate() {
                        if column.name() != "tenant_id" {
                            object.insert(column.name().to_owned(), value(row, i));
                        }
                    }
                    Value::Object(object)
                })
                .collect()
        });
        if rows.len() > cap as usize {
            rows.truncate(cap as usize);
            truncated = true;
        }
        out.insert(part.name.to_owned(), Value::Array(rows));
    }
    Ok((out, truncated))
}

/// Runs every erase statement for `customer` of `tenant` in one
/// transaction; the rows each touched, by name (names may repeat: their
/// counts add up).
pub async fn erase(
    db: &Db,
    parts: &[Part],
    tenant: Uuid,
    customer: Uuid,
    erasure: Uuid,
) -> Result<BTreeMap<String, u64>, sqlx::Error> {
    let mut counts = BTreeMap::new();
    in_tx!(db, tx => {
        for part in parts {
            let sql = part.sql(db);
            let mut query = sqlx::query(sql).bind(Id(tenant)).bind(Id(customer));
            if sql.contains("$3") {
                query = query.bind(Id(erasure));
            }
            let n = query.execute(&mut *tx).await?.rows_affected();
            *counts.entry(part.name.to_owned()).or_insert(0) += n;
        }
    });
    Ok(counts)
}

/// Column `i` as JSON: ids and text as strings, times as RFC 3339 (Postgres)
/// or microseconds (SQLite, as stored), bytes as base64.
fn value<R: Row>(row: &R, i: usize) -> Value
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i32: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> DateTime<Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Value: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let ty = match row.try_get_raw(i) {
        Ok(raw) if raw.is_null() => return Value::Null,
        Ok(raw) => raw.type_info().name().to_ascii_uppercase(),
        Err(_) => return Value::Null,
    };
    let got = |r: Result<Value, sqlx::Error>| r.unwrap_or(Value::Null);
    match ty.as_str() {
        "UUID" => got(row
            .try_get_unchecked::<Uuid, _>(i)
            .map(|u| u.to_string().into())),
        "TIMESTAMPTZ" => got(row
            .try_get_unchecked::<DateTime<Utc>, _>(i)
            .map(|t| t.to_rfc3339().into())),
        "INT8" | "INTEGER" | "BIGINT" => got(row.try_get_unchecked::<i64, _>(i).map(Value::from)),
        "INT4" => got(row.try_get_unchecked::<i32, _>(i).map(Value::from)),
        "BOOL" | "BOOLEAN" => got(row.try_get_unchecked::<bool, _>(i).map(Value::from)),
        "FLOAT8" | "REAL" | "DOUBLE" => got(row.try_get_unchecked::<f64, _>(i).map(Value::from)),
        "JSON" | "JSONB" => got(row.try_get_unchecked::<Value, _>(i)),
        "BYTEA" | "BLOB" => got(row
            .try_get_unchecked::<Vec<u8>, _>(i)
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b).into())),
        _ => got(row.try_get_unchecked::<String, _>(i).map(Value::from)),
    }
}

/// The `field` of a request naming a customer or an erasure, parsed:
/// INVALID_ARGUMENT naming the field otherwise.
pub fn parse_id(field: &str, raw: &str) -> Result<Uuid, crate::ApiError> {
    crate::domain::parse_uuid(raw).map_err(|reason| crate::ApiError::invalid(field, reason))
}

/// [`export`] answered as an internal export RPC answers: the JSON text and
/// the truncation flag, database errors classified.
pub async fn export_json(
    db: &Db,
    parts: &[Part],
    tenant: Uuid,
    customer: Uuid,
    cap: u32,
) -> Result<(String, bool), crate::ApiError> {
    let (mut sections, truncated) = export(db, parts, tenant, customer, cap)
        .await
        .map_err(|e| crate::error::classify_db_error(e, "customer data"))?;
    sections.insert("truncated".to_owned(), Value::Bool(truncated));
    Ok((Value::Object(sections).to_string(), truncated))
}

/// [`erase`] with database errors classified.
pub async fn erase_counts(
    db: &Db,
    parts: &[Part],
    tenant: Uuid,
    customer: Uuid,
    erasure: Uuid,
) -> Result<std::collections::HashMap<String, u64>, crate::ApiError> {
    let counts = erase(db, parts, tenant, customer, erasure)
        .await
        .map_err(|e| crate::error::classify_db_error(e, "customer data"))?;
    Ok(counts.into_iter().collect())
}
