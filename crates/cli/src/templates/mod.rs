//! `rapport templates …`: message templates saved from files, listed, and
//! previewed for a customer without sending anything.

use std::path::PathBuf;

use clap::Subcommand;

use crate::client::Clients;

mod put;
mod read;

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

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not key=value"))
}

/// Runs one `rapport templates` command.
pub async fn run_templates(clients: &mut Clients, command: TemplatesCommand) -> anyhow::Result<()> {
    match command {
        TemplatesCommand::Put { file } => put::put(clients, &file).await,
        TemplatesCommand::List => read::list(clients).await,
        TemplatesCommand::Preview {
            name,
            channel,
            locale,
            customer,
            data,
        } => read::preview(clients, name, &channel, locale, customer, data).await,
    }
}
