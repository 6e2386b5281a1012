//! Template requests: a template to save (its text parsed, so a send never
//! meets a bad one), a template's key, a preview and a page of templates.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use rapport_kit::{
    FieldErrors,
    domain::{check_text, parse_uuid},
    paging,
};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use super::{
    limits::{MAX_BODY, MAX_SUBJECT},
    names::{data, is_identifier, locale, template_name},
};
use crate::{
    error::{Error, valid},
    model::{Template, channel_name, to_micros_precision},
    render,
};

/// A template channel: email, SMS or webhook.
fn channel(value: i32) -> Result<pb::Channel, String> {
    match pb::Channel::try_from(value) {
        Ok(pb::Channel::Unspecified) | Err(_) => Err("required: email, sms or webhook".to_owned()),
        Ok(c) => Ok(c),
    }
}

/// Parses a template to save; every problem is named under `template.*`,
/// with the position for problems inside the text.
pub fn template(t: Option<pb::Template>) -> Result<Template, Error> {
    let Some(t) = t else {
        return Err(Error::invalid("template", "required"));
    };
    let mut errors = FieldErrors::new();
    errors.check("template.name", template_name(&t.name));
    let channel = errors
        .check("template.channel", channel(t.channel))
        .unwrap_or(pb::Channel::Unspecified);
    errors.check("template.locale", locale(&t.locale));
    let mut required = BTreeSet::new();
    for (i, name) in t.required_data.iter().enumerate() {
        if is_identifier(name) {
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
        errors.check("template.subject", render::parse(&t.subject, &required));
    }
    if t.body.trim().is_empty() {
        errors.add("template.body", "required");
    } else if t.body.len() > MAX_BODY || t.body.contains('\0') {
        errors.add("template.body", format!("at most {MAX_BODY} bytes, no NUL"));
    } else {
        errors.check("template.body", render::parse(&t.body, &required));
    }
    valid(errors)?;
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

/// Checks the key of one template (get, delete) and returns its channel.
pub fn template_key(name: &str, channel_value: i32, tag: &str) -> Result<pb::Channel, Error> {
    let mut errors = FieldErrors::new();
    errors.check("name", template_name(name));
    errors.check("locale", locale(tag));
    let channel = errors.check("channel", channel(channel_value));
    valid(errors)?;
    Ok(channel.unwrap_or(pb::Channel::Unspecified))
}

/// A parsed preview request.
#[derive(Debug)]
pub struct Preview<'a> {
    /// The template's name.
    pub name: &'a str,
    /// Its channel.
    pub channel: pb::Channel,
    /// The requested locale, empty for the default.
    pub locale: &'a str,
    /// The customer to render for, if any.
    pub customer_id: Option<Uuid>,
    /// Values for the template's `data.*` fields.
    pub data: &'a HashMap<String, String>,
}

/// Parses a preview request.
pub fn preview(req: &pb::PreviewTemplateRequest) -> Result<Preview<'_>, Error> {
    let mut errors = FieldErrors::new();
    errors.check("name", template_name(&req.name));
    if !req.locale.is_empty() {
        errors.check("locale", locale(&req.locale));
    }
    let channel = errors.check("channel", channel(req.channel));
    let customer_id = if req.customer_id.is_empty() {
        None
    } else {
        errors.check("customer_id", parse_uuid(&req.customer_id))
    };
    data(&req.data, &mut errors);
    valid(errors)?;
    Ok(Preview {
        name: &req.name,
        channel: channel.unwrap_or(pb::Channel::Unspecified),
        locale: &req.locale,
        customer_id,
        data: &req.data,
    })
}

/// Where a page of templates starts and how long it is.
#[derive(Debug)]
pub struct TemplatePage {
    /// Templates per page.
    pub size: u32,
    /// The (name, channel, locale) of the last template served, empty for
    /// the first page.
    pub after: [String; 3],
}

/// Parses a list request.
pub fn template_page(req: &pb::ListTemplatesRequest) -> Result<TemplatePage, Error> {
    let mut errors = FieldErrors::new();
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let after = errors.check("page_token", paging::decode_token(&req.page_token));
    valid(errors)?;
    let after = after.flatten().unwrap_or_default();
    let mut parts = after.splitn(3, '\n');
    let mut next = || parts.next().unwrap_or_default().to_owned();
    Ok(TemplatePage {
        size: size.unwrap_or(paging::DEFAULT_PAGE_SIZE),
        after: [next(), next(), next()],
    })
}

/// The token of the page after the one ending with `last`.
pub fn next_template_token(last: &Template) -> String {
    paging::encode_token(&format!("{}\n{}\n{}", last.name, last.channel, last.locale))
}
