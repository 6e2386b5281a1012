//! `rapport audit …`: the tenant's audit trail, who changed what, newest
//! first.

use clap::Subcommand;
use rapport_kit::domain::timestamp_to_chrono;
use rapport_proto::v1::{AuditEvent, ListAuditEventsRequest};

use crate::client::{Clients, answer};

/// What `rapport audit` does.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Changes to settings, rules, templates, the contact policy, endpoints,
    /// consent and keys, newest first: when, who (the API key id), the RPC,
    /// the target and a before/after summary.
    List {
        /// Only targets starting with this, e.g. `rule:` or `customer:<id>/`.
        #[arg(long, default_value = "")]
        target: String,
        /// Only this RPC: its method name (`PublishRule`) or full name.
        #[arg(long, default_value = "")]
        rpc: String,
        /// Only changes made by this actor (`api_key:<key id>`).
        #[arg(long, default_value = "")]
        actor: String,
        /// At most this many events.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// Runs one `rapport audit` command.
pub async fn run(clients: &mut Clients, command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::List {
        target,
        rpc,
        actor,
        limit,
    } = command;
    let mut page_token = String::new();
    let mut shown = 0;
    while shown < limit {
        let r = answer(
            clients
                .tenants
                .list_audit_events(ListAuditEventsRequest {
                    page_size: (limit - shown).min(1_000) as i32,
                    page_token,
                    rpc: rpc.clone(),
                    target_prefix: target.clone(),
                    actor: actor.clone(),
                    ..Default::default()
                })
                .await,
        )?;
        for e in &r.events {
            println!("{}", line(e));
        }
        shown += r.events.len();
        if r.next_page_token.is_empty() || r.events.is_empty() {
            break;
        }
        page_token = r.next_page_token;
    }
    if shown == 0 {
        println!("no audit events");
    }
    Ok(())
}

/// One event on one line: time, actor, method, target, summary.
fn line(e: &AuditEvent) -> String {
    let at =
        e.at.as_ref()
            .and_then(|t| timestamp_to_chrono(t).ok())
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_default();
    let method = e.rpc.rsplit('/').next().unwrap_or_default();
    format!("{at}  {}  {method}  {}  {}", e.actor, e.target, e.summary)
}
