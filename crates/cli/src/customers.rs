//! `rapport customers …`: GDPR export and erasure of one customer.

use clap::Subcommand;
use rapport_kit::domain::timestamp_to_chrono;
use rapport_proto::v1::{EraseCustomerRequest, ExportCustomerRequest};

use crate::client::{Clients, answer};

/// What `rapport customers` does.
#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    /// Everything Rapport holds on one customer (profile, identities,
    /// consents, attributes, transactions, events, scores, rule firings,
    /// notifications) as one JSON document on stdout. Lists hold at most
    /// 5,000 entries each; a cut one is said on stderr.
    Export {
        /// The customer's Rapport id.
        id: String,
    },
    /// Erases the customer in every service: profile, identities, activity,
    /// scores and cache entries removed, queued notifications cancelled,
    /// rule firings and sent notifications anonymised. Prints the erasure
    /// id and what each service removed. Safe to repeat: a retry completes
    /// an erasure a service being down interrupted.
    Erase {
        /// The customer's Rapport id.
        id: String,
    },
}

/// Runs one `rapport customers` command.
pub async fn run(clients: &mut Clients, command: CustomersCommand) -> anyhow::Result<()> {
    match command {
        CustomersCommand::Export { id } => {
            let r = answer(
                clients
                    .profiles
                    .export_customer(ExportCustomerRequest { customer_id: id })
                    .await,
            )?;
            let doc: serde_json::Value = serde_json::from_str(&r.json)?;
            println!("{}", serde_json::to_string_pretty(&doc)?);
            if r.truncated {
                eprintln!("some lists were cut at 5,000 entries (see their \"truncated\" flags)");
            }
        }
        CustomersCommand::Erase { id } => {
            let r = answer(
                clients
                    .profiles
                    .erase_customer(EraseCustomerRequest {
                        customer_id: id.clone(),
                    })
                    .await,
            )?;
            if !r.erased {
                println!("nothing to erase: no service holds anything on {id}");
                return Ok(());
            }
            let at = r
                .completed_at
                .and_then(|t| timestamp_to_chrono(&t).ok())
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            println!("erased {id}: erasure {} completed {at}", r.erasure_id);
            let mut counts: Vec<_> = r.counts.into_iter().filter(|(_, n)| *n > 0).collect();
            counts.sort();
            for (what, n) in counts {
                println!("  {what:<40} {n}");
            }
        }
    }
    Ok(())
}
