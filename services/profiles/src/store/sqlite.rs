//! The embedded store: ids as text, times as microseconds. Batches run as
//! prepared statements on the one connection, inside the caller's
//! transaction; lists of ids travel as JSON arrays through `json_each`.

use std::collections::{BTreeMap, HashMap};

use rapport_kit::domain::{from_micros, to_micros};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::{ListQuery, Store, attach};
use crate::{
    hierarchy::Links,
    model::{ConsentState, Customer, Fields, IdentityKey},
};

/// [`Store`] on the SQLite connection (usually inside a transaction).
pub(crate) struct SqliteStore<'c> {
    conn: &'c mut SqliteConnection,
}

impl<'c> SqliteStore<'c> {
    /// Wraps the profiles database's connection.
    pub fn new(conn: &'c mut SqliteConnection) -> Self {
        SqliteStore { conn }
    }

    async fn write_row(
        &mut self,
        sql: &str,
        tenant: &str,
        c: &Customer,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(sql)
            .bind(tenant)
            .bind(c.id.to_string())
            .bind(&c.fields.display_name)
            .bind(c.fields.kind)
            .bind(&c.fields.email)
            .bind(&c.fields.phone)
            .bind(c.fields.parent_id.map(|p| p.to_string()))
            .bind(c.stub)
            .bind(to_micros(c.created_at))
            .bind(to_micros(c.updated_at))
            .fetch_optional(&mut *self.conn)
            .await
    }
}

type Row = (
    String,
    String,
    i32,
    String,
    String,
    Option<String>,
    bool,
    i64,
    i64,
);
type ConsentRow = (String, i32, bool, Option<i64>, Option<i64>);

fn uuid(text: &str) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(text).map_err(|e| sqlx::Error::Decode(e.into()))
}

fn json_ids(ids: &[Uuid]) -> String {
    serde_json::Value::from(ids.iter().map(Uuid::to_string).collect::<Vec<_>>()).to_string()
}

impl Store for SqliteStore<'_> {
    async fn lock_hierarchy(&mut self, _tenant: Uuid) -> Result<(), sqlx::Error> {
        // One connection: every transaction is already alone.
        Ok(())
    }

    async fn lock_rows(&mut self, _tenant: Uuid, _ids: &[Uuid]) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn existing(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM customers WHERE tenant_id = $1 AND id IN (SELECT value FROM json_each($2))",
        )
        .bind(tenant.to_string())
        .bind(json_ids(ids))
        .fetch_all(&mut *self.conn)
        .await?;
        found
            .iter()
            .map(|id| Uuid::parse_str(id).map_err(|e| sqlx::Error::Decode(Box::new(e))))
            .collect()
    }

    async fn load(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Vec<Customer>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (tenant, ids) = (tenant.to_string(), json_ids(ids));
        let rows: Vec<Row> = sqlx::query_as(include_str!("../../sql/sqlite/customers_by_id.sql"))
            .bind(&tenant)
            .bind(&ids)
            .fetch_all(&mut *self.conn)
            .await?;
        let mut customers = rows
            .into_iter()
            .map(customer)
            .collect::<Result<Vec<_>, _>>()?;
        let identities: Vec<(String, String, String)> =
            sqlx::query_as(include_str!("../../sql/sqlite/identities_by_customer.sql"))
                .bind(&tenant)
                .bind(&ids)
                .fetch_all(&mut *self.conn)
                .await?;
        let attributes: Vec<(String, String, String)> =
            sqlx::query_as(include_str!("../../sql/sqlite/attributes_by_customer.sql"))
                .bind(&tenant)
                .bind(&ids)
                .fetch_all(&mut *self.conn)
                .await?;
        let consents: Vec<ConsentRow> =
            sqlx::query_as(include_str!("../../sql/sqlite/consents_by_customer.sql"))
                .bind(&tenant)
                .bind(&ids)
                .fetch_all(&mut *self.conn)
                .await?;
        attach(
            &mut customers,
            identities
                .into_iter()
                .map(|(id, s, e)| Ok((uuid(&id)?, (s, e))))
                .collect::<Result<_, sqlx::Error>>()?,
            attributes
                .into_iter()
                .map(|(id, k, v)| Ok((uuid(&id)?, k, v)))
                .collect::<Result<_, sqlx::Error>>()?,
            consents
                .into_iter()
                .map(|(id, channel, granted, granted_at, revoked_at)| {
                    let state = ConsentState {
                        channel,
                        granted,
                        granted_at: granted_at.map(from_micros),
                        revoked_at: revoked_at.map(from_micros),
                    };
                    Ok((uuid(&id)?, state))
                })
                .collect::<Result<_, sqlx::Error>>()?,
        );
        Ok(customers)
    }

    async fn find_identities(
        &mut self,
        tenant: Uuid,
        keys: &[IdentityKey],
    ) -> Result<HashMap<IdentityKey, Uuid>, sqlx::Error> {
        let tenant = tenant.to_string();
        let mut found = HashMap::new();
        for key in keys {
            let holder: Option<String> = sqlx::query_scalar(
                "SELECT customer_id FROM identities WHERE tenant_id = $1 AND source = $2 AND external_id = $3",
            )
            .bind(&tenant)
            .bind(&key.0)
            .bind(&key.1)
            .fetch_optional(&mut *self.conn)
            .await?;
            if let Some(holder) = holder {
                found.insert(key.clone(), uuid(&holder)?);
            }
        }
        Ok(found)
    }

    async fn links(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Links, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Links::new());
        }
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as(include_str!("../../sql/sqlite/links.sql"))
                .bind(tenant.to_string())
                .bind(json_ids(ids))
                .fetch_all(&mut *self.conn)
                .await?;
        rows.into_iter()
            .map(|(id, parent)| Ok((uuid(&id)?, parent.as_deref().map(uuid).transpose()?)))
            .collect()
    }

    async fn insert_rows(
        &mut self,
        tenant: Uuid,
        rows: &[&Customer],
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        let tenant = tenant.to_string();
        let mut inserted = Vec::new();
        for c in rows {
            if self
                .write_row(include_str!("../../sql/sqlite/insert_row.sql"), &tenant, c)
                .await?
                .is_some()
            {
                inserted.push(c.id);
            }
        }
        Ok(inserted)
    }

    async fn upsert_rows(&mut self, tenant: Uuid, rows: &[&Customer]) -> Result<(), sqlx::Error> {
        let tenant = tenant.to_string();
        for c in rows {
            self.write_row(include_str!("../../sql/sqlite/upsert_row.sql"), &tenant, c)
                .await?;
        }
        Ok(())
    }

    async fn insert_identities(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, &IdentityKey)],
    ) -> Result<Vec<IdentityKey>, sqlx::Error> {
        let tenant = tenant.to_string();
        let mut inserted = Vec::new();
        for (id, key) in items {
            let done = sqlx::query(include_str!("../../sql/sqlite/insert_identity.sql"))
                .bind(&tenant)
                .bind(id.to_string())
                .bind(&key.0)
                .bind(&key.1)
                .execute(&mut *self.conn)
                .await?;
            if done.rows_affected() > 0 {
                inserted.push((*key).clone());
            }
        }
        Ok(inserted)
    }

    async fn replace_attributes(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, &BTreeMap<String, String>)],
    ) -> Result<(), sqlx::Error> {
        let tenant = tenant.to_string();
        for (id, map) in items {
            let id = id.to_string();
            sqlx::query("DELETE FROM attributes WHERE tenant_id = $1 AND customer_id = $2")
                .bind(&tenant)
                .bind(&id)
                .execute(&mut *self.conn)
                .await?;
            for (key, value) in map.iter() {
                sqlx::query("INSERT INTO attributes (tenant_id, customer_id, key, value) VALUES ($1, $2, $3, $4)")
                    .bind(&tenant)
                    .bind(&id)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *self.conn)
                    .await?;
            }
        }
        Ok(())
    }

    async fn write_consents(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, ConsentState)],
    ) -> Result<(), sqlx::Error> {
        let tenant = tenant.to_string();
        for (id, c) in items {
            sqlx::query(include_str!("../../sql/sqlite/write_consent.sql"))
                .bind(&tenant)
                .bind(id.to_string())
                .bind(c.channel)
                .bind(c.granted)
                .bind(c.granted_at.map(to_micros))
                .bind(c.revoked_at.map(to_micros))
                .execute(&mut *self.conn)
                .await?;
        }
        Ok(())
    }

    async fn delete(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
        let tenant = tenant.to_string();
        let mut deleted = 0;
        for id in ids {
            let id = id.to_string();
            // No foreign key clears parent_id here (see the migration).
            sqlx::query(
                "UPDATE customers SET parent_id = NULL WHERE tenant_id = $1 AND parent_id = $2",
            )
            .bind(&tenant)
            .bind(&id)
            .execute(&mut *self.conn)
            .await?;
            deleted += sqlx::query("DELETE FROM customers WHERE tenant_id = $1 AND id = $2")
                .bind(&tenant)
                .bind(&id)
                .execute(&mut *self.conn)
                .await?
                .rows_affected();
        }
        Ok(deleted)
    }

    async fn list(&mut self, tenant: Uuid, q: &ListQuery) -> Result<Vec<Uuid>, sqlx::Error> {
        let (tenant, after, limit) = (tenant.to_string(), q.after.to_string(), i64::from(q.limit));
        let parent = q.parent_id.map(|p| p.to_string());
        let query = if !q.attributes.is_empty() {
            let filter =
                serde_json::to_string(&q.attributes).map_err(|e| sqlx::Error::Encode(e.into()))?;
            sqlx::query_scalar(include_str!("../../sql/sqlite/list_filtered.sql"))
                .bind(tenant)
                .bind(after)
                .bind(parent)
                .bind(filter)
                .bind(q.attributes.len() as i64)
                .bind(limit)
        } else if parent.is_some() {
            sqlx::query_scalar(include_str!("../../sql/sqlite/list_children.sql"))
                .bind(tenant)
                .bind(after)
                .bind(parent)
                .bind(limit)
        } else {
            sqlx::query_scalar(include_str!("../../sql/sqlite/list_all.sql"))
                .bind(tenant)
                .bind(after)
                .bind(limit)
        };
        let ids: Vec<String> = query.fetch_all(&mut *self.conn).await?;
        ids.iter().map(|id| uuid(id)).collect()
    }
}

fn customer(row: Row) -> Result<Customer, sqlx::Error> {
    let (id, display_name, kind, email, phone, parent_id, stub, created_at, updated_at) = row;
    Ok(Customer {
        id: uuid(&id)?,
        fields: Fields {
            display_name,
            kind,
            email,
            phone,
            parent_id: parent_id.as_deref().map(uuid).transpose()?,
            attributes: BTreeMap::new(),
        },
        stub,
        created_at: from_micros(created_at),
        updated_at: from_micros(updated_at),
        identities: Vec::new(),
        consents: Vec::new(),
    })
}
