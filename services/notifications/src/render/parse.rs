//! Parsing template text into tags over the fields a template may name.

use std::collections::BTreeSet;

use super::text::{Field, Filter, Parsed, Part};

/// Customer fields a template may name (besides `customer.attributes.X`).
const CUSTOMER_FIELDS: &[&str] = &["display_name", "first_name", "email", "phone"];
/// Score fields a template may name.
const SCORE_FIELDS: &[&str] = &[
    "purchases_this_year",
    "spend_this_year",
    "net_spend",
    "last_purchase_at",
    "tier",
    "segment",
];

/// 1-based line and column of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> String {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("at line {line}, column {column}")
}

/// Parses `text`, allowing `data.X` only for X in `required_data`. The error
/// names the position of the first problem.
pub fn parse(text: &str, required_data: &BTreeSet<String>) -> Result<Parsed, String> {
    let mut parts = Vec::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("{{") {
        let open = rest + found;
        if open > rest {
            parts.push(Part::Text(text[rest..open].to_owned()));
        }
        let inner_start = open + 2;
        let Some(len) = text[inner_start..].find("}}") else {
            return Err(format!("unclosed tag {}", position(text, open)));
        };
        let inner = &text[inner_start..inner_start + len];
        if inner.contains("{{") {
            return Err(format!("unclosed tag {}", position(text, open)));
        }
        let (field, filters) =
            tag(inner, required_data).map_err(|e| format!("{e} {}", position(text, open)))?;
        parts.push(Part::Tag(field, filters));
        rest = inner_start + len + 2;
    }
    if rest < text.len() {
        parts.push(Part::Text(text[rest..].to_owned()));
    }
    Ok(Parsed(parts))
}

fn tag(inner: &str, required_data: &BTreeSet<String>) -> Result<(Field, Vec<Filter>), String> {
    let mut pieces = split_pipes(inner).into_iter();
    let path = pieces.next().unwrap_or_default();
    let path = path.trim();
    let filters = pieces
        .map(|f| filter(f.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let has_default = filters.iter().any(|f| matches!(f, Filter::Default(_)));
    let segments: Vec<&str> = path.split('.').collect();
    if path.is_empty() || !segments.iter().all(|s| identifier(s)) {
        return Err(format!("{path:?} is not a field name"));
    }
    let field = match segments.as_slice() {
        ["customer", "attributes", name] if has_default => Field::Attribute((*name).to_owned()),
        ["customer", "attributes", _] => {
            return Err(format!(
                "{path} needs a default (`| default: \"…\"`): attributes are free-form"
            ));
        }
        ["customer", name] if CUSTOMER_FIELDS.contains(name) => Field::Customer((*name).to_owned()),
        ["score", name] if SCORE_FIELDS.contains(name) => Field::Score((*name).to_owned()),
        ["data", name] if required_data.contains(*name) => Field::Data((*name).to_owned()),
        ["data", name] => {
            return Err(format!(
                "data.{name} is not listed in the template's required data fields"
            ));
        }
        _ => return Err(format!("unknown field {path}")),
    };
    Ok((field, filters))
}

/// Splits on `|` outside double quotes.
fn split_pipes(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in inner.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '|' if !quoted => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out
}

fn identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn filter(text: &str) -> Result<Filter, String> {
    match text {
        "upper" => return Ok(Filter::Upper),
        "lower" => return Ok(Filter::Lower),
        _ => {}
    }
    let Some(arg) = text.strip_prefix("default:") else {
        return Err(format!(
            "unknown filter {text:?} (default: \"…\", upper, lower)"
        ));
    };
    let arg = arg.trim();
    match arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
        Some(value) if !value.contains('"') => Ok(Filter::Default(value.to_owned())),
        _ => Err("default needs one double-quoted text".to_owned()),
    }
}
