//! Templates as the service uses them: checked when saved, found by locale
//! with fallback, rendered with the customer's profile, score and data.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use rapport_kit::{ApiError, FieldErrors, domain::check_text};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use crate::{
    model::{Template, channel_name, to_micros_precision},
    peers::{Peers, customer_values, score_values},
    repo::{Repository, TemplateKey},
    template::{self, Field, Parsed, Values},
    validate::{self, MAX_BODY, MAX_SUBJECT},
};

/// Parses a template to save; every problem is named under `template.*`,
/// with the position for problems inside the text.
pub fn parse_put(t: Option<pb::Template>) -> Result<Template, ApiError> {
    let Some(t) = t else {
        return Err(ApiError::invalid("template", "required"));
    };
    let mut errors = FieldErrors::new();
    errors.check("template.name", validate::template_name(&t.name));
    let channel = match pb::Channel::try_from(t.channel) {
        Ok(pb::Channel::Unspecified) | Err(_) => {
            errors.add("template.channel", "required: email, sms or webhook");
            pb::Channel::Unspecified
        }
        Ok(c) => c,
    };
    errors.check("template.locale", validate::locale(&t.locale));
    let mut required = BTreeSet::new();
    for (i, name) in t.required_data.iter().enumerate() {
        if validate::is_identifier(name) {
            required.insert(name.clone());
        } else {
            errors.add(
                format!("template.required_data[{i}]"),
                "is not a field name",
            );
        }
    }
    if channel != pb::Channel::Email && !t.subject.is_empty() {
        errors.add("template.subject", "only email templates have a subject");
    }
    if errors
        .check("template.subject", check_text(&t.subject, MAX_SUBJECT))
        .is_some()
    {
        errors.check("template.subject", template::parse(&t.subject, &required));
    }
    if t.body.trim().is_empty() {
        errors.add("template.body", "required");
    } else if t.body.len() > MAX_BODY || t.body.contains('\0') {
        errors.add("template.body", format!("at most {MAX_BODY} bytes, no NUL"));
    } else {
        errors.check("template.body", template::parse(&t.body, &required));
    }
    errors.into_result()?;
    Ok(Template {
        name: t.name,
        channel: channel_name(channel).to_owned(),
        locale: t.locale,
        version: 0,
        subject: t.subject,
        body: t.body,
        required_data: required.into_iter().collect(),
        default_locale: t.default_locale,
        updated_at: to_micros_precision(Utc::now()),
    })
}

/// The template for `locale`: the exact tag, then its language, then the
/// template marked as default. NOT_FOUND when none exists.
pub async fn resolve(
    repo: &Repository,
    tenant: Uuid,
    name: &str,
    channel: pb::Channel,
    locale: &str,
) -> Result<Template, ApiError> {
    let channel = channel_name(channel);
    let mut tags = Vec::new();
    if !locale.is_empty() {
        tags.push(locale);
        if let Some((language, _)) = locale.split_once('-') {
            tags.push(language);
        }
    }
    for tag in tags {
        let key = TemplateKey {
            name,
            channel,
            locale: tag,
        };
        if let Some(t) = repo.template(tenant, key).await? {
            return Ok(t);
        }
    }
    repo.default_template(tenant, name, channel)
        .await?
        .ok_or_else(|| ApiError::NotFound {
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
    pub fn new(template: Template, data: &HashMap<String, String>) -> Result<Ready, ApiError> {
        let required: BTreeSet<String> = template.required_data.iter().cloned().collect();
        let mut errors = FieldErrors::new();
        for name in &required {
            if data.get(name).is_none_or(|v| v.is_empty()) {
                errors.add(format!("data.{name}"), "required by the template");
            }
        }
        errors.into_result()?;
        let stored = |e: String| ApiError::Internal(anyhow::anyhow!("stored template: {e}"));
        let subject = template::parse(&template.subject, &required).map_err(stored)?;
        let body = template::parse(&template.body, &required).map_err(stored)?;
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
    ) -> Result<(String, String), ApiError> {
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
        Ok((self.subject.render(&values), self.body.render(&values)))
    }
}
