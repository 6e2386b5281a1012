//! The production store: one statement per primitive, arrays through
//! `UNNEST`/`ANY` so a batch costs the same number of round trips as a row.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{ListQuery, Store, attach};
use crate::{
    hierarchy::Links,
    model::{ConsentState, Customer, Fields, IdentityKey},
};

/// Advisory-lock class of hierarchy changes (the second key is the tenant).
const HIERARCHY_LOCK: i32 = 0x7072_6f66;

/// [`Store`] on a Postgres connection (usually inside a transaction).
pub(crate) struct PgStore<'c> {
    conn: &'c mut PgConnection,
}

impl<'c> PgStore<'c> {
    /// Wraps a connection whose `search_path` is the profiles schema.
    pub fn new(conn: &'c mut PgConnection) -> Self {
        PgStore { conn }
    }
}

type Row = (
    Uuid,
    String,
    i32,
    String,
    String,
    Option<Uuid>,
    bool,
    DateTime<Utc>,
    DateTime<Utc>,
);
type ConsentRow = (
    Uuid,
    i32,
    bool,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// Column arrays of customer rows, sorted by id so concurrent batches take
/// row locks in the same order and cannot deadlock.
struct Columns {
    ids: Vec<Uuid>,
    names: Vec<String>,
    kinds: Vec<i32>,
    emails: Vec<String>,
    phones: Vec<String>,
    parents: Vec<Option<Uuid>>,
    stubs: Vec<bool>,
    created: Vec<DateTime<Utc>>,
    updated: Vec<DateTime<Utc>>,
}

impl Columns {
    fn of(rows: &[&Customer]) -> Columns {
        let mut sorted = rows.to_vec();
        sorted.sort_by_key(|c| c.id);
        Columns {
            ids: sorted.iter().map(|c| c.id).collect(),
            names: sorted
                .iter()
                .map(|c| c.fields.display_name.clone())
                .collect(),
            kinds: sorted.iter().map(|c| c.fields.kind).collect(),
            emails: sorted.iter().map(|c| c.fields.email.clone()).collect(),
            phones: sorted.iter().map(|c| c.fields.phone.clone()).collect(),
            parents: sorted.iter().map(|c| c.fields.parent_id).collect(),
            stubs: sorted.iter().map(|c| c.stub).collect(),
            created: sorted.iter().map(|c| c.created_at).collect(),
            updated: sorted.iter().map(|c| c.updated_at).collect(),
        }
    }

    fn bind<'q>(
        self,
        sql: &'q str,
        tenant: Uuid,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(sql)
            .bind(tenant)
            .bind(self.ids)
            .bind(self.names)
            .bind(self.kinds)
            .bind(self.emails)
            .bind(self.phones)
            .bind(self.parents)
            .bind(self.stubs)
            .bind(self.created)
            .bind(self.updated)
    }
}

impl Store for PgStore<'_> {
    async fn lock_hierarchy(&mut self, tenant: Uuid) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(HIERARCHY_LOCK)
            .bind(tenant.to_string())
            .execute(&mut *self.conn)
            .await
            .map(|_| ())
    }

    async fn lock_rows(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<(), sqlx::Error> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "SELECT 1 FROM customers WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE",
        )
        .bind(tenant)
        .bind(ids)
        .execute(&mut *self.conn)
        .await
        .map(|_| ())
    }

    async fn existing(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_scalar("SELECT id FROM customers WHERE tenant_id = $1 AND id = ANY($2)")
            .bind(tenant)
            .bind(ids)
            .fetch_all(&mut *self.conn)
            .await
    }

    async fn load(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Vec<Customer>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Row> = sqlx::query_as(include_str!("../../sql/postgres/customers_by_id.sql"))
            .bind(tenant)
            .bind(ids)
            .fetch_all(&mut *self.conn)
            .await?;
        let mut customers: Vec<Customer> = rows.into_iter().map(customer).collect();
        let found: Vec<Uuid> = customers.iter().map(|c| c.id).collect();
        let identities: Vec<(Uuid, String, String)> = sqlx::query_as(include_str!(
            "../../sql/postgres/identities_by_customer.sql"
        ))
        .bind(tenant)
        .bind(&found)
        .fetch_all(&mut *self.conn)
        .await?;
        let attributes: Vec<(Uuid, String, String)> = sqlx::query_as(include_str!(
            "../../sql/postgres/attributes_by_customer.sql"
        ))
        .bind(tenant)
        .bind(&found)
        .fetch_all(&mut *self.conn)
        .await?;
        let consents: Vec<ConsentRow> =
            sqlx::query_as(include_str!("../../sql/postgres/consents_by_customer.sql"))
                .bind(tenant)
                .bind(&found)
                .fetch_all(&mut *self.conn)
                .await?;
        attach(
            &mut customers,
            identities
                .into_iter()
                .map(|(id, s, e)| (id, (s, e)))
                .collect(),
            attributes,
            consents
                .into_iter()
                .map(|(id, channel, granted, granted_at, revoked_at)| {
                    (
                        id,
                        ConsentState {
                            channel,
                            granted,
                            granted_at,
                            revoked_at,
                        },
                    )
                })
                .collect(),
        );
        Ok(customers)
    }

    async fn find_identities(
        &mut self,
        tenant: Uuid,
        keys: &[IdentityKey],
    ) -> Result<HashMap<IdentityKey, Uuid>, sqlx::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let sources: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
        let externals: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
        let rows: Vec<(String, String, Uuid)> =
            sqlx::query_as(include_str!("../../sql/postgres/find_identities.sql"))
                .bind(tenant)
                .bind(sources)
                .bind(externals)
                .fetch_all(&mut *self.conn)
                .await?;
        Ok(rows.into_iter().map(|(s, e, id)| ((s, e), id)).collect())
    }

    async fn links(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Links, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Links::new());
        }
        let rows: Vec<(Uuid, Option<Uuid>)> =
            sqlx::query_as(include_str!("../../sql/postgres/links.sql"))
                .bind(tenant)
                .bind(ids)
                .fetch_all(&mut *self.conn)
                .await?;
        Ok(rows.into_iter().collect())
    }

    async fn insert_rows(
        &mut self,
        tenant: Uuid,
        rows: &[&Customer],
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let query =
            Columns::of(rows).bind(include_str!("../../sql/postgres/insert_rows.sql"), tenant);
        let inserted = query.fetch_all(&mut *self.conn).await?;
        inserted.iter().map(|r| sqlx::Row::try_get(r, 0)).collect()
    }

    async fn upsert_rows(&mut self, tenant: Uuid, rows: &[&Customer]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let query =
            Columns::of(rows).bind(include_str!("../../sql/postgres/upsert_rows.sql"), tenant);
        query.execute(&mut *self.conn).await.map(|_| ())
    }

    async fn insert_identities(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, &IdentityKey)],
    ) -> Result<Vec<IdentityKey>, sqlx::Error> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut sorted = items.to_vec();
        sorted.sort_by(|a, b| a.1.cmp(b.1));
        let ids: Vec<Uuid> = sorted.iter().map(|(id, _)| *id).collect();
        let sources: Vec<&str> = sorted.iter().map(|(_, k)| k.0.as_str()).collect();
        let externals: Vec<&str> = sorted.iter().map(|(_, k)| k.1.as_str()).collect();
        sqlx::query_as(include_str!("../../sql/postgres/insert_identities.sql"))
            .bind(tenant)
            .bind(ids)
            .bind(sources)
            .bind(externals)
            .fetch_all(&mut *self.conn)
            .await
    }

    async fn replace_attributes(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, &BTreeMap<String, String>)],
    ) -> Result<(), sqlx::Error> {
        if items.is_empty() {
            return Ok(());
        }
        let owners: Vec<Uuid> = items.iter().map(|(id, _)| *id).collect();
        sqlx::query("DELETE FROM attributes WHERE tenant_id = $1 AND customer_id = ANY($2)")
            .bind(tenant)
            .bind(&owners)
            .execute(&mut *self.conn)
            .await?;
        let (mut ids, mut keys, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for (id, map) in items {
            for (k, v) in map.iter() {
                ids.push(*id);
                keys.push(k.as_str());
                values.push(v.as_str());
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query(include_str!("../../sql/postgres/insert_attributes.sql"))
            .bind(tenant)
            .bind(ids)
            .bind(keys)
            .bind(values)
            .execute(&mut *self.conn)
            .await
            .map(|_| ())
    }

    async fn write_consents(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, ConsentState)],
    ) -> Result<(), sqlx::Error> {
        if items.is_empty() {
            return Ok(());
        }
        sqlx::query(include_str!("../../sql/postgres/write_consents.sql"))
            .bind(tenant)
            .bind(items.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .bind(items.iter().map(|(_, c)| c.channel).collect::<Vec<_>>())
            .bind(items.iter().map(|(_, c)| c.granted).collect::<Vec<_>>())
            .bind(items.iter().map(|(_, c)| c.granted_at).collect::<Vec<_>>())
            .bind(items.iter().map(|(_, c)| c.revoked_at).collect::<Vec<_>>())
            .execute(&mut *self.conn)
            .await
            .map(|_| ())
    }

    async fn delete(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
        // The foreign keys cascade to identities, attributes and consents and
        // clear the children's parent_id.
        sqlx::query("DELETE FROM customers WHERE tenant_id = $1 AND id = ANY($2)")
            .bind(tenant)
            .bind(ids)
            .execute(&mut *self.conn)
            .await
            .map(|r| r.rows_affected())
    }

    async fn list(&mut self, tenant: Uuid, q: &ListQuery) -> Result<Vec<Uuid>, sqlx::Error> {
        let limit = i64::from(q.limit);
        let query = if !q.attributes.is_empty() {
            let filter =
                serde_json::to_value(&q.attributes).map_err(|e| sqlx::Error::Encode(e.into()))?;
            sqlx::query_scalar(include_str!("../../sql/postgres/list_filtered.sql"))
                .bind(tenant)
                .bind(q.after)
                .bind(q.parent_id)
                .bind(filter)
                .bind(q.attributes.len() as i64)
                .bind(limit)
        } else if let Some(parent) = q.parent_id {
            sqlx::query_scalar(include_str!("../../sql/postgres/list_children.sql"))
                .bind(tenant)
                .bind(q.after)
                .bind(parent)
                .bind(limit)
        } else {
            sqlx::query_scalar(include_str!("../../sql/postgres/list_all.sql"))
                .bind(tenant)
                .bind(q.after)
                .bind(limit)
        };
        query.fetch_all(&mut *self.conn).await
    }
}

fn customer(row: Row) -> Customer {
    let (id, display_name, kind, email, phone, parent_id, stub, created_at, updated_at) = row;
    Customer {
        id,
        fields: Fields {
            display_name,
            kind,
            email,
            phone,
            parent_id,
            attributes: BTreeMap::new(),
        },
        stub,
        created_at,
        updated_at,
        identities: Vec::new(),
        consents: Vec::new(),
    }
}
