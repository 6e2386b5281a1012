//! The `customers` table: a customer's own row, read together with what is
//! attached to it, written in batches, deleted and paged through.

use std::collections::{BTreeMap, HashMap};

use rapport_kit::db::{Id, List, Time};
use sqlx::types::Json;
use uuid::Uuid;

use rapport_kit::{dialect_sql as sql, on_conn};

use super::Conn;

use super::customers::ListQuery;
use crate::model::{ConsentState, Customer, Fields};

type Row = (
    Id,
    String,
    i32,
    String,
    String,
    Option<Id>,
    bool,
    Time,
    Time,
);
type Attached = (Id, String, String);
type ConsentRow = (Id, i32, bool, Option<Time>, Option<Time>);

impl Conn<'_> {
    /// Locks these customers' rows until the transaction ends, so a
    /// concurrent delete cannot slip between reading and rewriting them.
    pub async fn lock_rows(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<(), sqlx::Error> {
        match &mut self.0 {
            rapport_kit::db::Conn::Postgres(c) if !ids.is_empty() => {
                let sql = include_str!("../../sql/postgres/lock_rows.sql");
                let query = sqlx::query(sql).bind(tenant).bind(ids);
                query.execute(&mut **c).await.map(drop)
            }
            // SQLite's one connection already runs every transaction alone.
            _ => Ok(()),
        }
    }

    /// Which of these ids are customers, without loading them.
    pub async fn existing(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = sql!(self, "existing_ids");
        let found: Vec<Id> = on_conn!(&mut self.0, c => {
            sqlx::query_scalar(sql).bind(Id(tenant)).bind(List(ids)).fetch_all(c).await?
        });
        Ok(found.into_iter().map(|id| id.0).collect())
    }

    /// The customers with these ids that exist, ordered by id, with their
    /// identities, attributes and consents.
    pub async fn load(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Vec<Customer>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let customers = sql!(self, "customers_by_id");
        let identities = sql!(self, "identities_by_customer");
        let attributes = sql!(self, "attributes_by_customer");
        let consents = sql!(self, "consents_by_customer");
        let tenant = Id(tenant);
        on_conn!(&mut self.0, c => {
            let rows: Vec<Row> =
                sqlx::query_as(customers).bind(tenant).bind(List(ids)).fetch_all(&mut *c).await?;
            let mut customers: Vec<Customer> = rows.into_iter().map(customer).collect();
            let ids: Vec<Uuid> = customers.iter().map(|c| c.id).collect();
            let identities: Vec<Attached> =
                sqlx::query_as(identities).bind(tenant).bind(List(&ids)).fetch_all(&mut *c).await?;
            let attributes: Vec<Attached> =
                sqlx::query_as(attributes).bind(tenant).bind(List(&ids)).fetch_all(&mut *c).await?;
            let consents: Vec<ConsentRow> =
                sqlx::query_as(consents).bind(tenant).bind(List(&ids)).fetch_all(&mut *c).await?;
            attach(&mut customers, identities, attributes, consents);
            Ok(customers)
        })
    }

    /// Inserts customer rows (fields and flags, not identities, attributes
    /// or consents) that do not exist yet; returns the ids inserted.
    pub async fn insert_rows(
        &mut self,
        tenant: Uuid,
        rows: &[&Customer],
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        self.write_rows(sql!(self, "insert_rows"), tenant, rows)
            .await
    }

    /// Inserts or overwrites customer rows (`created_at` of existing rows is
    /// kept).
    pub async fn upsert_rows(
        &mut self,
        tenant: Uuid,
        rows: &[&Customer],
    ) -> Result<(), sqlx::Error> {
        self.write_rows(sql!(self, "upsert_rows"), tenant, rows)
            .await
            .map(drop)
    }

    /// Runs `sql` (an insert or upsert) over customer rows; returns the ids
    /// it returned.
    async fn write_rows(
        &mut self,
        sql: &str,
        tenant: Uuid,
        rows: &[&Customer],
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        match &mut self.0 {
            _ if rows.is_empty() => Ok(Vec::new()),
            // One statement over column arrays, so a batch costs one round
            // trip; sorted by id so concurrent batches take row locks in the
            // same order and cannot deadlock.
            rapport_kit::db::Conn::Postgres(c) => {
                let mut rows = rows.to_vec();
                rows.sort_by_key(|r| r.id);
                let text =
                    |f: fn(&Fields) -> &str| rows.iter().map(|r| f(&r.fields)).collect::<Vec<_>>();
                sqlx::query_scalar(sql)
                    .bind(tenant)
                    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
                    .bind(text(|f| &f.display_name))
                    .bind(rows.iter().map(|r| r.fields.kind).collect::<Vec<_>>())
                    .bind(text(|f| &f.email))
                    .bind(text(|f| &f.phone))
                    .bind(rows.iter().map(|r| r.fields.parent_id).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.stub).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
                    .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
                    .fetch_all(&mut **c)
                    .await
            }
            // No round trips to save on the embedded file: a statement a row.
            rapport_kit::db::Conn::Sqlite(c) => {
                let mut written = Vec::new();
                for r in rows {
                    let id: Option<Id> = sqlx::query_scalar(sql)
                        .bind(Id(tenant))
                        .bind(Id(r.id))
                        .bind(&r.fields.display_name)
                        .bind(r.fields.kind)
                        .bind(&r.fields.email)
                        .bind(&r.fields.phone)
                        .bind(r.fields.parent_id.map(Id))
                        .bind(r.stub)
                        .bind(Time(r.created_at))
                        .bind(Time(r.updated_at))
                        .fetch_optional(&mut **c)
                        .await?;
                    written.extend(id.map(|id| id.0));
                }
                Ok(written)
            }
        }
    }

    /// Deletes customers with everything attached; their children lose
    /// their parent. Returns how many existed.
    pub async fn delete(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
        if let rapport_kit::db::Conn::Sqlite(c) = &mut self.0 {
            let sql = include_str!("../../sql/sqlite/clear_parents.sql");
            let query = sqlx::query(sql).bind(Id(tenant)).bind(List(ids));
            query.execute(&mut **c).await?;
        }
        let sql = sql!(self, "delete_customers");
        on_conn!(&mut self.0, c => {
            let done = sqlx::query(sql).bind(Id(tenant)).bind(List(ids)).execute(c).await?;
            Ok(done.rows_affected())
        })
    }

    /// Ids of a list page, ascending.
    pub async fn list(&mut self, tenant: Uuid, q: &ListQuery) -> Result<Vec<Uuid>, sqlx::Error> {
        let (tenant, after, limit) = (Id(tenant), Id(q.after), i64::from(q.limit));
        let filtered = sql!(self, "list_filtered");
        let ids: Vec<Id> = on_conn!(&mut self.0, c => {
            let query = if !q.attributes.is_empty() {
                let n = q.attributes.len() as i64;
                sqlx::query_scalar(filtered).bind(tenant).bind(after).bind(q.parent_id.map(Id))
                    .bind(Json(&q.attributes)).bind(n).bind(limit)
            } else if let Some(parent) = q.parent_id {
                sqlx::query_scalar(include_str!("../../sql/list_children.sql"))
                    .bind(tenant).bind(after).bind(Id(parent)).bind(limit)
            } else {
                sqlx::query_scalar(include_str!("../../sql/list_all.sql"))
                    .bind(tenant).bind(after).bind(limit)
            };
            query.fetch_all(c).await?
        });
        Ok(ids.into_iter().map(|id| id.0).collect())
    }
}

fn customer(row: Row) -> Customer {
    let (id, display_name, kind, email, phone, parent_id, stub, created_at, updated_at) = row;
    let parent_id = parent_id.map(|p| p.0);
    let fields = Fields {
        display_name,
        kind,
        email,
        phone,
        parent_id,
        attributes: BTreeMap::new(),
    };
    Customer {
        created_at: created_at.0,
        ..Customer::new(id.0, fields, stub, updated_at.0)
    }
}

/// Groups attached rows by customer, in the order the ids were loaded.
fn attach(
    rows: &mut [Customer],
    ids: Vec<Attached>,
    attrs: Vec<Attached>,
    consents: Vec<ConsentRow>,
) {
    let index: HashMap<Uuid, usize> = rows.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let at = |id: Id| index.get(&id.0).copied();
    for (id, source, external_id) in ids {
        if let Some(i) = at(id) {
            rows[i].identities.push((source, external_id));
        }
    }
    for (id, key, value) in attrs {
        if let Some(i) = at(id) {
            rows[i].fields.attributes.insert(key, value);
        }
    }
    for (id, channel, granted, granted_at, revoked_at) in consents {
        let (granted_at, revoked_at) = (granted_at.map(|t| t.0), revoked_at.map(|t| t.0));
        if let Some(i) = at(id) {
            rows[i].consents.push(ConsentState {
                channel,
                granted,
                granted_at,
                revoked_at,
            });
        }
    }
    for c in rows.iter_mut() {
        c.identities.sort();
        c.consents.sort_by_key(|c| c.channel);
    }
}
