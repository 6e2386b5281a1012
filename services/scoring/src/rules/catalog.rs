//! Reading rules: one rule, and what a definition would be refused for
//! (ValidateRule). Listings are read from [`super::repo::RuleRepo`].

use rapport_proto::v1::RuleDefinition;
use uuid::Uuid;

use super::{
    Rules,
    repo::RuleRecord,
    validate::{self, Diagnostic},
};
use crate::error::Error;

impl Rules {
    /// One rule.
    pub async fn get(&self, tenant: Uuid, rule: &str) -> Result<RuleRecord, Error> {
        self.repo.must_get(tenant, rule).await
    }

    /// ValidateRule: the problems of `d` (none when it would save), the
    /// integration endpoints it names looked up as a save does, and the
    /// variables its condition reads.
    pub async fn diagnose(
        &self,
        tenant: Uuid,
        d: &RuleDefinition,
    ) -> Result<(Vec<Diagnostic>, Vec<String>), Error> {
        let tiers = self.tiers(tenant).await?;
        Ok(match validate::check(d, &tiers) {
            Ok((def, program)) => (
                self.endpoint_diagnostics(tenant, &def).await?,
                program.references().into_iter().collect(),
            ),
            Err(diagnostics) => (diagnostics, Vec::new()),
        })
    }
}
