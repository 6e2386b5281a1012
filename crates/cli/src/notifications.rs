//! `rapport notifications …`: what was sent, suppressed or is waiting, and
//! every delivery attempt of one notification.

use anyhow::Context;
use clap::Subcommand;
use rapport_proto::v1::{GetNotificationRequest, ListNotificationsRequest, NotificationStatus};

use crate::{
    channel,
    client::{Clients, answer},
};

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

/// Runs one `rapport notifications` command.
pub async fn run_notifications(
    clients: &mut Clients,
    command: NotificationsCommand,
) -> anyhow::Result<()> {
    match command {
        NotificationsCommand::List { customer, limit } => list(clients, customer, limit).await,
        NotificationsCommand::Show { id } => show(clients, id).await,
    }
}

async fn list(clients: &mut Clients, customer: Option<String>, limit: i32) -> anyhow::Result<()> {
    let page = answer(
        clients
            .notifications
            .list_notifications(ListNotificationsRequest {
                customer_id: customer.unwrap_or_default(),
                page_size: limit,
                page_token: String::new(),
            })
            .await,
    )?;
    for n in page.notifications {
        println!(
            "{}  {:<8} {:<12} {:<24} {}",
            n.id,
            channel::name(n.channel),
            status_name(n.status),
            n.suppressed_reason,
            n.origin
        );
    }
    Ok(())
}

async fn show(clients: &mut Clients, id: String) -> anyhow::Result<()> {
    let n = answer(
        clients
            .notifications
            .get_notification(GetNotificationRequest {
                notification_id: id,
            })
            .await,
    )?
    .notification
    .context("no notification in the answer")?;
    println!(
        "{} {} to {} — {}{}",
        channel::name(n.channel),
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
    if !n.integration_endpoint.is_empty() {
        println!(
            "posted to integration endpoint {} (no consent applies)",
            n.integration_endpoint
        );
    }
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

fn status_name(value: i32) -> String {
    NotificationStatus::try_from(value)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("NOTIFICATION_STATUS_")
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|_| "?".to_owned())
}
