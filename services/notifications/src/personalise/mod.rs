//! Personalising a message from a stored template: the template for the
//! requested locale (with fallback), checked against the send's data, and
//! rendered with the customer's profile and score.

mod values;

use std::collections::{BTreeSet, HashMap};

use rapport_kit::FieldErrors;
use rapport_proto::v1 as pb;
use uuid::Uuid;

use crate::{
    error::{Error, valid},
    model::{Template, channel_name},
    peers::Peers,
    render::{self, Field, Parsed, Values},
    repo::Repository,
    validate::{MAX_BODY, MAX_SUBJECT},
};
use values::{customer_values, score_values};

/// The template for `locale`: the exact tag, then its language, then the
/// template marked as default. NOT_FOUND when none exists.
pub async fn resolve(
    repo: &Repository,
    tenant: Uuid,
    name: &str,
    channel: pb::Channel,
    locale: &str,
) -> Result<Template, Error> {
    let channel = channel_name(channel);
    let mut tags = Vec::new();
    if !locale.is_empty() {
        tags.push(locale);
        if let Some((language, _)) = locale.split_once('-') {
            tags.push(language);
        }
    }
    for tag in tags {
        if let Some(t) = repo.template(tenant, name, channel, Some(tag)).await? {
            return Ok(t);
        }
    }
    repo.template(tenant, name, channel, None)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "template",
            id: format!("{name} ({channel}, {locale})"),
        })
}

/// A stored template parsed again for rendering.
pub struct Ready {
    /// The template.
    pub template: Template,
    subject: Parsed,
    body: Parsed,
}

impl Ready {
    /// Parses `template` (saved, so it parses) and checks `data` holds every
    /// required field: a missing one is INVALID_ARGUMENT naming `data.X`.
    pub fn new(template: Template, data: &HashMap<String, String>) -> Result<Ready, Error> {
        let required: BTreeSet<String> = template.required_data.iter().cloned().collect();
        let mut errors = FieldErrors::new();
        for name in &required {
            if data.get(name).is_none_or(|v| v.is_empty()) {
                errors.add(format!("data.{name}"), "required by the template");
            }
        }
        valid(errors)?;
        let stored = |e: String| Error::Corrupt(format!("stored template: {e}"));
        let subject = render::parse(&template.subject, &required).map_err(stored)?;
        let body = render::parse(&template.body, &required).map_err(stored)?;
        Ok(Ready {
            template,
            subject,
            body,
        })
    }

    fn uses(&self, wanted: fn(&Field) -> bool) -> bool {
        self.subject.fields().chain(self.body.fields()).any(wanted)
    }

    /// Renders subject and body, fetching the score only when used.
    pub async fn render(
        &self,
        peers: &Peers,
        tenant: Uuid,
        customer: Option<&pb::Customer>,
        data: &HashMap<String, String>,
    ) -> Result<(String, String), Error> {
        let mut values = Values {
            data: data.clone(),
            ..Values::default()
        };
        if let Some(c) = customer {
            values.customer = customer_values(c);
            if self.uses(|f| matches!(f, Field::Score(_)))
                && let Ok(id) = Uuid::parse_str(&c.id)
                && let Some(score) = peers.score(tenant, id).await?
            {
                values.score = score_values(&score);
            }
        }
        // The rendered message keeps to the limits a message sent without a
        // template keeps to; the data is what makes it longer.
        let subject = (self.subject)
            .render_within(&values, MAX_SUBJECT)
            .map_err(|limit| too_long("subject", limit))?;
        let body = (self.body)
            .render_within(&values, MAX_BODY)
            .map_err(|limit| too_long("body", limit))?;
        Ok((subject, body))
    }
}

/// A rendered message longer than a message sent without a template may be:
/// the data is what makes it longer.
fn too_long(what: &str, limit: usize) -> Error {
    Error::invalid(
        "data",
        format!("the template's {what} would render to more than {limit} bytes with this data"),
    )
}
