//! RulesService requests unpacked into domain values, each bad field named.
//! Edits return the violations found so far: the definition is checked
//! after them, against the tenant's tiers ([`crate::rules::Rules::checked`]).

use rapport_kit::{FieldErrors, domain, paging};
use rapport_proto::v1::{
    DryRunRuleRequest, ListFiringsRequest, ListRuleVersionsRequest, ListRulesRequest,
    RollbackRuleRequest, UpdateRuleRequest,
};

use crate::{
    error::{Error, valid},
    grpc::page_tokens,
    rules::{dry_run::DryRunOf, editing::Edit, repo::FiringsQuery},
};

/// Longest author name, in bytes.
const MAX_AUTHOR: usize = 200;

/// A rule id from a request.
pub fn rule_id(field: &str, raw: &str) -> Result<String, Error> {
    domain::parse_uuid(raw)
        .map(|u| u.to_string())
        .map_err(|r| Error::invalid(field, r))
}

/// `rule_id` of a request, as a field error.
fn rule_id_field(raw: &str) -> Result<String, String> {
    domain::parse_uuid(raw)
        .map(|u| u.to_string())
        .map_err(|_| "is not a rule id".to_owned())
}

/// The checks every edit shares: an idempotency key and who made it.
pub fn edit(errors: &mut FieldErrors, request_id: &str, author: &str) -> Edit {
    errors.check("request_id", domain::parse_id(request_id).map(drop));
    errors.check(
        "author",
        domain::parse_id(author)
            .and_then(|a| domain::check_text(a, MAX_AUTHOR))
            .map(drop),
    );
    Edit {
        request_id: request_id.to_owned(),
        author: author.to_owned(),
    }
}

/// An UpdateRule's rule, the version the edit was made on, and the edit.
pub fn update(req: &UpdateRuleRequest, errors: &mut FieldErrors) -> (String, i64, Edit) {
    let rule = errors.check("rule_id", rule_id_field(&req.rule_id));
    let edit = edit(errors, &req.request_id, &req.author);
    if req.expected_version == 0 {
        errors.add(
            "expected_version",
            "required: the version the edit was made on",
        );
    }
    let expected = i64::from(req.expected_version);
    (rule.unwrap_or_default(), expected, edit)
}

/// A RollbackRule's rule, the version to go back to, and the edit.
pub fn rollback(req: &RollbackRuleRequest) -> Result<(String, i64, Edit), Error> {
    let mut errors = FieldErrors::new();
    let rule = errors.check("rule_id", rule_id_field(&req.rule_id));
    let edit = edit(&mut errors, &req.request_id, &req.author);
    if req.to_version == 0 {
        errors.add("to_version", "required");
    }
    valid(errors)?;
    Ok((rule.unwrap_or_default(), i64::from(req.to_version), edit))
}

/// A ListRules page: its size and the name it starts after.
pub fn list(req: &ListRulesRequest) -> Result<(u32, String), Error> {
    let mut errors = FieldErrors::new();
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let after = errors.check("page_token", paging::decode_token(&req.page_token));
    valid(errors)?;
    Ok((
        size.unwrap_or_default(),
        after.flatten().unwrap_or_default(),
    ))
}

/// A ListRuleVersions page: the rule, the page size and the version it
/// starts below.
pub fn versions(req: &ListRuleVersionsRequest) -> Result<(String, u32, i64), Error> {
    let mut errors = FieldErrors::new();
    let rule = errors.check("rule_id", rule_id_field(&req.rule_id));
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let before = errors.check("page_token", page_tokens::decode_version(&req.page_token));
    valid(errors)?;
    Ok((
        rule.unwrap_or_default(),
        size.unwrap_or_default(),
        before.flatten().unwrap_or(i64::MAX),
    ))
}

/// What a DryRunRule evaluates, and how many matches it lists.
pub fn dry_run(req: &DryRunRuleRequest) -> Result<(DryRunOf, usize), Error> {
    let mut errors = FieldErrors::new();
    let size = errors.check("page_size", paging::page_size(req.page_size));
    valid(errors)?;
    let of = match (&req.definition, req.rule_id.is_empty()) {
        (Some(d), true) => {
            let known = crate::rules::lists::NAMES.contains(&d.audience.as_str());
            if !d.audience.is_empty() && !known {
                return Err(Error::invalid(
                    "definition.audience",
                    "is not a next-best list (reactivation, upsell, cross_sell)",
                ));
            }
            DryRunOf::Condition {
                condition: d.condition.clone(),
                audience: d.audience.clone(),
            }
        }
        (None, false) => DryRunOf::Rule {
            id: rule_id("rule_id", &req.rule_id)?,
            version: (req.version != 0).then(|| i64::from(req.version)),
        },
        _ => {
            return Err(Error::invalid(
                "definition",
                "give either a definition or a rule_id",
            ));
        }
    };
    Ok((of, size.unwrap_or_default() as usize))
}

/// A ListFirings request unpacked: what to read (a row more than the page,
/// to tell whether another follows) and the page size.
pub fn firings(req: &ListFiringsRequest) -> Result<(FiringsQuery, u32), Error> {
    let mut errors = FieldErrors::new();
    let rule = match req.rule_id.as_str() {
        "" => Some(String::new()),
        raw => errors.check("rule_id", rule_id_field(raw)),
    };
    let customer = match req.customer_id.as_str() {
        "" => None,
        raw => errors.check("customer_id", domain::parse_uuid(raw)),
    };
    if req.rule_id.is_empty() && req.customer_id.is_empty() {
        errors.add("rule_id", "give a rule_id, a customer_id or both");
    }
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let token = errors.check("page_token", paging::decode_token(&req.page_token));
    valid(errors)?;
    // The first page's time (i64::MAX) is after every firing, so its id
    // part never decides.
    let before = match token.flatten() {
        None => (i64::MAX, String::new()),
        Some(t) => t
            .split_once('/')
            .and_then(|(at, id)| Some((at.parse().ok()?, id.to_owned())))
            .ok_or_else(|| {
                Error::invalid("page_token", "is not a page token this service issued")
            })?,
    };
    let size = size.unwrap_or_default();
    let query = FiringsQuery {
        rule: rule.unwrap_or_default(),
        customer,
        before,
        limit: size + 1,
    };
    Ok((query, size))
}

/// The days a GetRuleStats looks back over: 30 unless given, at most 365.
pub fn window_days(days: u32) -> Result<i64, Error> {
    match days {
        0 => Ok(30),
        d @ 1..=365 => Ok(i64::from(d)),
        _ => Err(Error::invalid("window_days", "must be between 1 and 365")),
    }
}
