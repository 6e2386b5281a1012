//! Reading dedupe keys without claiming them: which rows of a batch were
//! stored before, so a replay is known as one before its customer is
//! resolved (and, if unknown, created).

use std::collections::HashSet;

use rapport_kit::{
    db::{Id, List},
    on_pool, sql_for,
};
use uuid::Uuid;

use super::{
    Repo,
    batch::{Table, column},
};
use crate::validate::Row;

impl Repo {
    /// The (source, external id) keys of `rows` already taken for `tenant`,
    /// in one indexed query.
    pub(crate) async fn stored_keys<C: Sync, T: Table>(
        &self,
        tenant: Uuid,
        rows: &[&Row<C, T>],
    ) -> Result<HashSet<(String, String)>, sqlx::Error> {
        if rows.is_empty() {
            return Ok(HashSet::new());
        }
        let sources = column(rows, |r| r.source.as_str());
        let external_ids = column(rows, |r| r.external_id.as_str());
        let sql = sql_for!(
            &self.db,
            postgres = T::STORED_KEYS.0,
            sqlite = T::STORED_KEYS.1
        );
        let taken: Vec<(String, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql)
                .bind(Id(tenant))
                .bind(List(&sources))
                .bind(List(&external_ids))
                .fetch_all(pool)
                .await?
        });
        Ok(taken.into_iter().collect())
    }
}
