//! Reading rules: one rule, rules by name, a rule's versions, and what a
//! definition would be refused for (ValidateRule).

use rapport_proto::v1::RuleDefinition;
use uuid::Uuid;

use super::{
    Rules,
    repo::{RuleRecord, VersionRecord},
    validate::{self, Diagnostic},
};
use crate::error::Error;

impl Rules {
    /// One rule.
    pub async fn get(&self, tenant: Uuid, rule: &str) -> Result<RuleRecord, Error> {
        self.repo.must_get(tenant, rule).await
    }

    /// Up to `limit` rules by name after `after`.
    pub async fn list(
        &self,
        tenant: Uuid,
        after: &str,
        limit: u32,
    ) -> Result<Vec<RuleRecord>, Error> {
        self.repo.list(tenant, after, limit).await
    }

    /// Up to `limit` versions of `rule` below `before`, newest first.
    pub async fn versions(
        &self,
        tenant: Uuid,
        rule: &str,
        before: i64,
        limit: u32,
    ) -> Result<Vec<VersionRecord>, Error> {
        self.repo.must_get(tenant, rule).await?;
        self.repo.versions(tenant, rule, before, limit).await
    }

    /// ValidateRule: the problems of `d` (none when it would save) and the
    /// variables its condition reads.
    pub async fn diagnose(
        &self,
        tenant: Uuid,
        d: &RuleDefinition,
    ) -> Result<(Vec<Diagnostic>, Vec<String>), Error> {
        let tiers = self.tiers(tenant).await?;
        Ok(match validate::check(d, &tiers) {
            Ok((_, program)) => (Vec::new(), program.references().into_iter().collect()),
            Err(diagnostics) => (diagnostics, Vec::new()),
        })
    }
}
