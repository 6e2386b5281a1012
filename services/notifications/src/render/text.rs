//! A parsed template text and its rendering with a customer's values.

use std::collections::HashMap;

/// A field a tag reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A profile field from `CUSTOMER_FIELDS` (see `parse.rs`).
    Customer(String),
    /// A free-form profile attribute.
    Attribute(String),
    /// A score field from `SCORE_FIELDS` (see `parse.rs`).
    Score(String),
    /// A value the sender passes in `data`.
    Data(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Filter {
    Default(String),
    Upper,
    Lower,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    Text(String),
    Tag(Field, Vec<Filter>),
}

/// A parsed template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed(pub(super) Vec<Part>);

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

impl Parsed {
    /// The fields the template reads, so only their sources are fetched.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.0.iter().filter_map(|p| match p {
            Part::Tag(f, _) => Some(f),
            Part::Text(_) => None,
        })
    }

    /// The text with every tag replaced, whatever its length (for tests).
    #[cfg(test)]
    pub fn render(&self, values: &Values) -> String {
        self.render_within(values, usize::MAX)
            .expect("no text is longer than usize::MAX")
    }

    /// The text with every tag replaced (empty values take their default),
    /// or `Err(limit)` as soon as it grows
    /// past `limit` bytes (so a short template with long values cannot make
    /// a large one).
    pub fn render_within(&self, values: &Values, limit: usize) -> Result<String, usize> {
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
            if out.len() > limit {
                return Err(limit);
            }
        }
        Ok(out)
    }
}
