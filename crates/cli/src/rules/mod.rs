//! `rapport rules …`: write, check, try, publish and roll back business rules
//! from files, and see what they did.

use std::path::PathBuf;

use clap::Subcommand;

use crate::client::Clients;

mod check;
mod duration;
mod edit;
pub mod file;
mod inspect;
mod lookup;

pub use check::dry_run_counts;

/// What `rapport rules` does.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Checks a rule file without saving it; shows each problem with its position.
    Validate {
        /// The rule file (TOML).
        file: PathBuf,
    },
    /// Shows how many customers, and which, a rule would match now. Contacts no one.
    DryRun {
        /// A rule file (a draft not yet saved)…
        file: Option<PathBuf>,
        /// …or a saved rule, by name or id.
        #[arg(long, conflicts_with = "file")]
        rule: Option<String>,
        /// Version of --rule (default: the latest).
        #[arg(long, requires = "rule")]
        version: Option<u32>,
        /// Matching customers to list.
        #[arg(long, default_value_t = 10)]
        show: i32,
    },
    /// Saves a new rule as version 1, a draft. Running it again with the same
    /// file changes nothing.
    Create {
        /// The rule file (TOML).
        file: PathBuf,
        /// Who wrote it.
        #[arg(long, env = "RAPPORT_AUTHOR")]
        author: String,
    },
    /// Saves a new draft version of a rule.
    Update {
        /// The rule, by name or id.
        rule: String,
        /// The rule file (TOML).
        file: PathBuf,
        /// Who changed it.
        #[arg(long, env = "RAPPORT_AUTHOR")]
        author: String,
        /// Refuse if someone else saved a version after this one (default: the
        /// latest as read now).
        #[arg(long)]
        expected_version: Option<u32>,
    },
    /// Makes a version the one evaluated (default: the latest).
    Publish {
        /// The rule, by name or id.
        rule: String,
        /// Version to publish.
        #[arg(long)]
        version: Option<u32>,
    },
    /// Publishes a copy of an earlier version as a new version.
    Rollback {
        /// The rule, by name or id.
        rule: String,
        /// The version to go back to.
        #[arg(long)]
        to: u32,
        /// Who rolled it back.
        #[arg(long, env = "RAPPORT_AUTHOR")]
        author: String,
    },
    /// Resumes evaluating a paused rule.
    Enable {
        /// The rule, by name or id.
        rule: String,
    },
    /// Pauses a rule: its published version is no longer evaluated.
    Disable {
        /// The rule, by name or id.
        rule: String,
    },
    /// Lists the tenant's rules.
    List,
    /// Shows a rule and its versions, newest first.
    Show {
        /// The rule, by name or id.
        rule: String,
    },
    /// Lists a rule's latest firings.
    Firings {
        /// The rule, by name or id.
        rule: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: i32,
    },
    /// What a rule did: matches, contacts, purchases after contact against the
    /// control group.
    Stats {
        /// The rule, by name or id.
        rule: String,
        /// Days after each firing that count.
        #[arg(long, default_value_t = 30)]
        window_days: u32,
    },
}

/// Runs one `rapport rules` command against the suite behind `clients`.
pub async fn run(clients: &mut Clients, command: RulesCommand) -> anyhow::Result<()> {
    match command {
        RulesCommand::Validate { file } => check::validate(clients, file).await,
        RulesCommand::DryRun {
            file,
            rule,
            version,
            show,
        } => check::dry_run(clients, file, rule, version, show).await,
        RulesCommand::Create { file, author } => edit::create(clients, &file, author).await,
        RulesCommand::Update {
            rule,
            file,
            author,
            expected_version,
        } => edit::update(clients, &rule, &file, author, expected_version).await,
        RulesCommand::Publish { rule, version } => edit::publish(clients, &rule, version).await,
        RulesCommand::Rollback { rule, to, author } => {
            edit::rollback(clients, &rule, to, author).await
        }
        RulesCommand::Enable { rule } => edit::set_enabled(clients, &rule, true).await,
        RulesCommand::Disable { rule } => edit::set_enabled(clients, &rule, false).await,
        RulesCommand::List => inspect::list(clients).await,
        RulesCommand::Show { rule } => inspect::show(clients, &rule).await,
        RulesCommand::Firings { rule, limit } => inspect::firings(clients, &rule, limit).await,
        RulesCommand::Stats { rule, window_days } => {
            inspect::stats(clients, &rule, window_days).await
        }
    }
}
