//! The template language: text with `{{ field | filter }}` tags over a closed
//! set of fields. Templates are parsed when saved, so a send never meets an
//! unknown field, an unclosed tag or a bad filter.

use std::collections::{BTreeSet, HashMap};

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

/// A field a tag reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A profile field from [`CUSTOMER_FIELDS`].
    Customer(String),
    /// A free-form profile attribute.
    Attribute(String),
    /// A score field from [`SCORE_FIELDS`].
    Score(String),
    /// A value the sender passes in `data`.
    Data(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    Default(String),
    Upper,
    Lower,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Tag(Field, Vec<Filter>),
}

/// A parsed template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed(Vec<Part>);

/// The values a template is rendered with; `None` for a source not fetched.
#[derive(Debug, Default, Clone)]
pub struct Values {
    /// Customer fields by name, attributes as `attributes.X`.
    pub customer: HashMap<String, String>,
    /// Score fields by name.
    pub score: HashMap<String, String>,
    /// The sender's data.
    pub data: HashMap<String, String>,
}

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

impl Parsed {
    /// The fields the template reads, so only their sources are fetched.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.0.iter().filter_map(|p| match p {
            Part::Tag(f, _) => Some(f),
            Part::Text(_) => None,
        })
    }

    /// The text with every tag replaced. Empty values take their default.
    pub fn render(&self, values: &Values) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Tag(field, filters) => {
                    let mut value = match field {
                        Field::Customer(n) => values.customer.get(n),
                        Field::Attribute(n) => values.customer.get(&format!("attributes.{n}")),
                        Field::Score(n) => values.score.get(n),
                        Field::Data(n) => values.data.get(n),
                    }
                    .cloned()
                    .unwrap_or_default();
                    for f in filters {
                        value = match f {
                            Filter::Default(d) if value.trim().is_empty() => d.clone(),
                            Filter::Default(_) => value,
                            Filter::Upper => value.to_uppercase(),
                            Filter::Lower => value.to_lowercase(),
                        };
                    }
                    out.push_str(&value);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn renders_known_fields_with_filters() {
        let t = parse(
            "Hi {{ customer.first_name }}, {{customer.attributes.region | default: \"there\"}}! \
             #{{ data.order_number | upper }} {{ score.tier | default: \"none\" }}",
            &data(&["order_number"]),
        )
        .unwrap();
        let mut v = Values::default();
        v.customer.insert("first_name".into(), "Ada".into());
        v.data.insert("order_number".into(), "ab-1".into());
        assert_eq!(t.render(&v), "Hi Ada, there! #AB-1 none");
        assert_eq!(t.fields().count(), 4);
    }

    #[test]
    fn refuses_bad_templates_with_positions() {
        let none = data(&[]);
        let e = parse("Hello\n  {{ customer.shoe_size }}", &none).unwrap_err();
        assert_eq!(e, "unknown field customer.shoe_size at line 2, column 3");
        assert!(
            parse("{{ customer.email ", &none)
                .unwrap_err()
                .contains("unclosed tag at line 1, column 1")
        );
        assert!(
            parse("{{ customer.email | shout }}", &none)
                .unwrap_err()
                .contains("unknown filter")
        );
        assert!(
            parse("{{ customer.attributes.region }}", &none)
                .unwrap_err()
                .contains("needs a default")
        );
        assert!(
            parse("{{ data.order }}", &none)
                .unwrap_err()
                .contains("required data")
        );
        assert!(parse("{{ }}", &none).is_err());
        assert!(parse("{{ customer.email | default: there }}", &none).is_err());
        assert!(parse("plain text only", &none).is_ok());
    }
}
