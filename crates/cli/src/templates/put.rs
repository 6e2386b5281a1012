//! Saving a template from its file. A template file:
//! ```toml
//! name = "receipt"
//! channel = "email"
//! locale = "en"
//! default_locale = true
//! subject = "Your order {{ data.order_number }}"
//! body = """
//! Thank you, {{ customer.first_name | default: "there" }}.
//! That is {{ score.purchases_this_year }} orders this year.
//! """
//! required_data = ["order_number"]
//! ```

use std::path::Path;

use anyhow::Context;
use rapport_proto::v1::{PutTemplateRequest, Template};
use serde::Deserialize;

use crate::{
    channel,
    client::{Clients, answer},
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    name: String,
    channel: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    default_locale: bool,
    #[serde(default)]
    subject: String,
    body: String,
    #[serde(default)]
    required_data: Vec<String>,
}

/// Saves the template in `file` as a new version, unless it is unchanged.
pub(super) async fn put(clients: &mut Clients, file: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let t: TemplateFile =
        toml::from_str(&text).with_context(|| format!("in {}", file.display()))?;
    let template = Template {
        channel: channel::parse(&t.channel)? as i32,
        name: t.name,
        locale: t.locale,
        subject: t.subject,
        body: t.body,
        required_data: t.required_data,
        default_locale: t.default_locale,
        ..Default::default()
    };
    let r = answer(
        clients
            .notifications
            .put_template(PutTemplateRequest {
                template: Some(template),
            })
            .await,
    )?;
    let saved = r.template.unwrap_or_default();
    println!(
        "template {} ({}, {}) {} version {}",
        saved.name,
        channel::name(saved.channel),
        saved.locale,
        if r.created {
            "saved as"
        } else {
            "unchanged at"
        },
        saved.version
    );
    Ok(())
}
