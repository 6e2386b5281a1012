//! The account hierarchy as stored: parent links read with their ancestors,
//! and the lock that keeps two concurrent changes from building a cycle.

use std::collections::HashMap;

use rapport_kit::db::{Id, List};
use uuid::Uuid;

use crate::{
    error::Error,
    hierarchy::{Links, MAX_DEPTH, depth, too_deep, would_cycle},
};
use rapport_kit::{dialect_sql as sql, on_conn};

use super::Conn;

/// Advisory-lock class of hierarchy changes (the second key is the tenant).
const HIERARCHY_LOCK: i32 = 0x7072_6f66;

impl Conn<'_> {
    /// Serialises hierarchy changes of one tenant until the transaction
    /// ends, so two concurrent changes cannot build a cycle together.
    pub async fn lock_hierarchy(&mut self, tenant: Uuid) -> Result<(), sqlx::Error> {
        match &mut self.0 {
            rapport_kit::db::Conn::Postgres(c) => {
                sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                    .bind(HIERARCHY_LOCK)
                    .bind(tenant.to_string())
                    .execute(&mut **c)
                    .await
                    .map(drop)
            }
            // One connection: every transaction is already alone.
            rapport_kit::db::Conn::Sqlite(_) => Ok(()),
        }
    }

    /// Parent links of the existing customers among `ids` and of their
    /// ancestors, up to one level more than a hierarchy may have: at most
    /// `ids.len() * (MAX_DEPTH + 1)` rows.
    pub async fn links(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Links, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Links::new());
        }
        let sql = sql!(self, "links");
        let levels = MAX_DEPTH as i64 + 1;
        let rows: Vec<(Id, Option<Id>)> = on_conn!(&mut self.0, c => {
            sqlx::query_as(sql).bind(Id(tenant)).bind(List(ids)).bind(levels).fetch_all(c).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, parent)| (id.0, parent.map(|p| p.0)))
            .collect())
    }

    /// How many levels each stored customer among `ids` heads, itself
    /// included, counted down to at most one more than a hierarchy may have.
    pub async fn heights(
        &mut self,
        tenant: Uuid,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, usize>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = sql!(self, "heights");
        let levels = MAX_DEPTH as i64 + 1;
        let rows: Vec<(Id, i64)> = on_conn!(&mut self.0, c => {
            sqlx::query_as(sql).bind(Id(tenant)).bind(List(ids)).bind(levels).fetch_all(c).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, levels)| (id.0, usize::try_from(levels).unwrap_or(usize::MAX)))
            .collect())
    }

    /// Checks that `parent` is a customer of the tenant and that making it
    /// the parent of `child` makes no customer its own ancestor nor the
    /// hierarchy deeper than [`MAX_DEPTH`], counting the levels `child`
    /// heads when it is `stored`. Call with the hierarchy lock held.
    pub async fn check_parent(
        &mut self,
        tenant: Uuid,
        child: Uuid,
        parent: Uuid,
        stored: bool,
    ) -> Result<(), Error> {
        let links = self.links(tenant, &[parent]).await?;
        if !links.contains_key(&parent) {
            return Err(Error::invalid(
                "customer.parent_id",
                "no customer has this id",
            ));
        }
        if would_cycle(&links, child, parent) {
            return Err(Error::invalid(
                "customer.parent_id",
                "would make the customer its own ancestor",
            ));
        }
        let below = match stored {
            true => self.heights(tenant, &[child]).await?.get(&child).copied(),
            false => None,
        };
        if depth(&links, parent) + below.unwrap_or(1) > MAX_DEPTH {
            return Err(Error::invalid("customer.parent_id", too_deep()));
        }
        Ok(())
    }
}
