//! `rapport templates …` and `rapport notifications …`: message templates
//! from files, previews, and what was sent.
//!
//! A template file:
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

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use rapport_proto::v1::{
    Channel, GetNotificationRequest, ListNotificationsRequest, ListTemplatesRequest,
    NotificationStatus, PreviewTemplateRequest, PutTemplateRequest, Template,
};
use serde::Deserialize;

use crate::{client::Clients, rules::describe};

/// What `rapport templates` does.
#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Saves a template file as a new version (unchanged content changes nothing).
    Put {
        /// The template file (TOML).
        file: PathBuf,
    },
    /// Lists the tenant's templates.
    List,
    /// Renders a template for a customer without sending anything.
    Preview {
        /// Template name.
        name: String,
        /// email, sms or webhook.
        #[arg(long)]
        channel: String,
        /// Locale to render (falls back to the language, then the default).
        #[arg(long, default_value = "")]
        locale: String,
        /// The customer whose profile and scores fill it in.
        #[arg(long)]
        customer: String,
        /// data.* values, as key=value.
        #[arg(long = "data", value_parser = key_value)]
        data: Vec<(String, String)>,
    },
}

/// What `rapport notifications` does.
#[derive(Debug, Subcommand)]
pub enum NotificationsCommand {
    /// Newest notifications first, optionally for one customer.
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: i32,
    },
    /// One notification with every delivery attempt.
    Show {
        /// Its id.
        id: String,
    },
}

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

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not key=value"))
}

fn channel(name: &str) -> anyhow::Result<Channel> {
    match name {
        "email" => Ok(Channel::Email),
        "sms" => Ok(Channel::Sms),
        "webhook" => Ok(Channel::Webhook),
        other => anyhow::bail!("channel: {other:?} is not email, sms or webhook"),
    }
}

/// Runs one `rapport templates` command.
pub async fn run_templates(clients: &mut Clients, command: TemplatesCommand) -> anyhow::Result<()> {
    match command {
        TemplatesCommand::Put { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let t: TemplateFile =
                toml::from_str(&text).with_context(|| format!("in {}", file.display()))?;
            let template = Template {
                channel: channel(&t.channel)? as i32,
                name: t.name,
                locale: t.locale,
                subject: t.subject,
                body: t.body,
                required_data: t.required_data,
                default_locale: t.default_locale,
                ..Default::default()
            };
            let r = clients
                .notifications
                .put_template(PutTemplateRequest {
                    template: Some(template),
                })
                .await
                .map_err(describe)?
                .into_inner();
            let saved = r.template.unwrap_or_default();
            println!(
                "template {} ({}, {}) {} version {}",
                saved.name,
                channel_name(saved.channel),
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
        TemplatesCommand::List => {
            let mut token = String::new();
            loop {
                let page = clients
                    .notifications
                    .list_templates(ListTemplatesRequest {
                        page_size: 100,
                        page_token: token,
                    })
                    .await
                    .map_err(describe)?
                    .into_inner();
                for t in &page.templates {
                    println!(
                        "{:<24} {:<8} {:<8} v{}{}",
                        t.name,
                        channel_name(t.channel),
                        t.locale,
                        t.version,
                        if t.default_locale { "  (default)" } else { "" }
                    );
                }
                if page.next_page_token.is_empty() {
                    return Ok(());
                }
                token = page.next_page_token;
            }
        }
        TemplatesCommand::Preview {
            name,
            channel: ch,
            locale,
            customer,
            data,
        } => {
            let r = clients
                .notifications
                .preview_template(PreviewTemplateRequest {
                    name,
                    channel: channel(&ch)? as i32,
                    locale,
                    customer_id: customer,
                    data: data.into_iter().collect(),
                })
                .await
                .map_err(describe)?
                .into_inner();
            if !r.subject.is_empty() {
                println!("Subject: {}\n", r.subject);
            }
            println!("{}", r.body);
            Ok(())
        }
    }
}

/// Runs one `rapport notifications` command.
pub async fn run_notifications(
    clients: &mut Clients,
    command: NotificationsCommand,
) -> anyhow::Result<()> {
    match command {
        NotificationsCommand::List { customer, limit } => {
            let page = clients
                .notifications
                .list_notifications(ListNotificationsRequest {
                    customer_id: customer.unwrap_or_default(),
                    page_size: limit,
                    page_token: String::new(),
                })
                .await
                .map_err(describe)?
                .into_inner();
            for n in page.notifications {
                println!(
                    "{}  {:<8} {:<12} {:<24} {}",
                    n.id,
                    channel_name(n.channel),
                    status_name(n.status),
                    n.suppressed_reason,
                    n.origin
                );
            }
            Ok(())
        }
        NotificationsCommand::Show { id } => {
            let n = clients
                .notifications
                .get_notification(GetNotificationRequest {
                    notification_id: id,
                })
                .await
                .map_err(describe)?
                .into_inner()
                .notification
                .context("no notification in the answer")?;
            println!(
                "{} {} to {} — {}{}",
                channel_name(n.channel),
                n.id,
                n.destination,
                status_name(n.status),
                if n.suppressed_reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", n.suppressed_reason)
                }
            );
            println!("dedupe key {}  origin {}", n.dedupe_key, n.origin);
            if !n.provider_message_id.is_empty() {
                println!("provider message id {}", n.provider_message_id);
            }
            for a in n.attempts {
                println!(
                    "  attempt {}: {} in {} ms{}",
                    a.number,
                    if a.succeeded { "ok" } else { "failed" },
                    a.duration_ms,
                    if a.error.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", a.error)
                    }
                );
            }
            Ok(())
        }
    }
}

fn channel_name(value: i32) -> &'static str {
    match Channel::try_from(value) {
        Ok(Channel::Email) => "email",
        Ok(Channel::Sms) => "sms",
        Ok(Channel::Webhook) => "webhook",
        _ => "?",
    }
}

fn status_name(value: i32) -> String {
    NotificationStatus::try_from(value)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("NOTIFICATION_STATUS_")
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|_| "?".to_owned())
}
