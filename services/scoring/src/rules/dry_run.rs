//! DryRunRule: a definition (or stored version) evaluated over every customer
//! of the tenant now, without firing anything. Customers are read in pages by
//! id and enriched as GetScore would; O(customers) per call.

use chrono::Utc;
use rapport_kit::{ApiError, FieldErrors, TenantContext, paging};
use rapport_proto::v1::{DryRunMatch, DryRunRuleRequest, DryRunRuleResponse};

use super::{
    Rules,
    crud::{parse_definition, rule_id},
    env::EventFacts,
    validate,
};
use crate::{engine::db_error, score};

/// Customers read per page.
const PAGE: u32 = 500;

impl Rules {
    /// DryRunRule.
    pub async fn dry_run(
        &self,
        ctx: &TenantContext,
        req: &DryRunRuleRequest,
    ) -> Result<DryRunRuleResponse, ApiError> {
        let tenant = ctx.tenant_id();
        let mut errors = FieldErrors::new();
        let size = errors.check("page_size", paging::page_size(req.page_size));
        errors.into_result()?;
        let size = size.unwrap_or_default() as usize;
        let condition = match (&req.definition, req.rule_id.is_empty()) {
            (Some(d), true) => d.condition.clone(),
            (None, false) => {
                let id = rule_id("rule_id", &req.rule_id)?;
                let version = match req.version {
                    0 => {
                        self.store
                            .get(tenant, &id)
                            .await
                            .map_err(db_error)?
                            .ok_or_else(|| ApiError::NotFound {
                                what: "rule",
                                id: id.clone(),
                            })?
                            .latest_version
                    }
                    v => i64::from(v),
                };
                let v = self.store.version(tenant, &id, version).await?;
                parse_definition(&v.definition)?.condition
            }
            _ => {
                return Err(ApiError::invalid(
                    "definition",
                    "give either a definition or a rule_id",
                ));
            }
        };
        let program = validate::compile(&condition)
            .map_err(|d| ApiError::InvalidArgument(validate::to_field_errors(&[d])))?;
        let refs = program.references();
        let profile = refs
            .iter()
            .any(|r| r.starts_with("customer.attributes") || r.starts_with("customer.kind"));
        let mut out = DryRunRuleResponse::default();
        let now = Utc::now();
        let event = EventFacts::default().value();
        let mut after = None;
        loop {
            let page = self
                .reader
                .repo
                .page(tenant, after, PAGE)
                .await
                .map_err(db_error)?;
            let Some(last) = page.last() else { break };
            after = Some(last.row.customer_id);
            let mut scores: Vec<_> = page.iter().map(score::stored).collect();
            self.reader.complete(&ctx.tenant, &mut scores, now).await?;
            for s in &scores {
                let mut b = self.bindings(&ctx.tenant, s, profile, now).await?;
                b.0.insert("event", event.clone());
                out.customers_evaluated += 1;
                match program.evaluate_bool(&b.activation()) {
                    Ok(true) => {
                        out.matched += 1;
                        if out.matches.len() < size {
                            out.matches.push(DryRunMatch {
                                customer_id: s.customer_id.clone(),
                                inputs: b.inputs(refs.iter()).into_iter().collect(),
                            });
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        out.errors += 1;
                        if out.first_error.is_empty() {
                            out.first_error = e.to_string();
                        }
                    }
                }
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
        Ok(out)
    }
}
