//! `rapport rules …`: write, check, try, publish and roll back business rules
//! from files, and see what they did.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use rapport_proto::v1::{
    CreateRuleRequest, DryRunRuleRequest, GetRuleRequest, GetRuleStatsRequest, ListFiringsRequest,
    ListRuleVersionsRequest, ListRulesRequest, PublishRuleRequest, RollbackRuleRequest, Rule,
    RuleDiagnostic, SetRuleEnabledRequest, UpdateRuleRequest, ValidateRuleRequest,
};
use uuid::Uuid;

use crate::client::Clients;

pub mod file;

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
        RulesCommand::Validate { file } => validate(clients, file).await,
        RulesCommand::DryRun {
            file,
            rule,
            version,
            show,
        } => dry_run(clients, file, rule, version, show).await,
        RulesCommand::Create { file, author } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let definition =
                file::parse(&text).with_context(|| format!("in {}", file.display()))?;
            let response = clients
                .rules
                .create_rule(CreateRuleRequest {
                    request_id: request_id(&["create", &author, &text]),
                    author,
                    definition: Some(definition),
                })
                .await
                .map_err(describe)?
                .into_inner();
            let rule = response.rule.context("no rule in the answer")?;
            let verb = if response.created {
                "created"
            } else {
                "already created"
            };
            println!(
                "{verb}: rule {} ({}) version {} (draft); publish it with `rapport rules publish {}`",
                rule.name, rule.id, rule.latest_version, rule.name
            );
            Ok(())
        }
        RulesCommand::Update {
            rule,
            file,
            author,
            expected_version,
        } => {
            let current = find(clients, &rule).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let definition =
                file::parse(&text).with_context(|| format!("in {}", file.display()))?;
            let expected = expected_version.unwrap_or(current.latest_version);
            let response = clients
                .rules
                .update_rule(UpdateRuleRequest {
                    rule_id: current.id.clone(),
                    request_id: request_id(&[
                        "update",
                        &current.id,
                        &expected.to_string(),
                        &author,
                        &text,
                    ]),
                    author,
                    expected_version: expected,
                    definition: Some(definition),
                })
                .await
                .map_err(describe)?
                .into_inner();
            let rule = response.rule.context("no rule in the answer")?;
            println!(
                "rule {}: version {} saved as a draft (published: {})",
                rule.name,
                rule.latest_version,
                published(&rule)
            );
            Ok(())
        }
        RulesCommand::Publish { rule, version } => {
            let current = find(clients, &rule).await?;
            let version = version.unwrap_or(current.latest_version);
            let rule = clients
                .rules
                .publish_rule(PublishRuleRequest {
                    rule_id: current.id,
                    version,
                })
                .await
                .map_err(describe)?
                .into_inner()
                .rule
                .context("no rule in the answer")?;
            println!(
                "rule {}: version {} is published",
                rule.name,
                published(&rule)
            );
            Ok(())
        }
        RulesCommand::Rollback { rule, to, author } => {
            let current = find(clients, &rule).await?;
            let rule = clients
                .rules
                .rollback_rule(RollbackRuleRequest {
                    request_id: request_id(&[
                        "rollback",
                        &current.id,
                        &current.latest_version.to_string(),
                        &to.to_string(),
                    ]),
                    rule_id: current.id,
                    author,
                    to_version: to,
                })
                .await
                .map_err(describe)?
                .into_inner()
                .rule
                .context("no rule in the answer")?;
            println!(
                "rule {}: version {} (a copy of version {to}) is published",
                rule.name, rule.published_version
            );
            Ok(())
        }
        RulesCommand::Enable { rule } => set_enabled(clients, &rule, true).await,
        RulesCommand::Disable { rule } => set_enabled(clients, &rule, false).await,
        RulesCommand::List => list(clients).await,
        RulesCommand::Show { rule } => show(clients, &rule).await,
        RulesCommand::Firings { rule, limit } => firings(clients, &rule, limit).await,
        RulesCommand::Stats { rule, window_days } => stats(clients, &rule, window_days).await,
    }
}

async fn validate(clients: &mut Clients, path: PathBuf) -> anyhow::Result<()> {
    let definition = file::read(&path)?;
    let condition = definition.condition.clone();
    let response = clients
        .rules
        .validate_rule(ValidateRuleRequest {
            definition: Some(definition),
        })
        .await
        .map_err(describe)?
        .into_inner();
    if response.ok {
        println!(
            "{}: ok; reads {}",
            path.display(),
            response.references.join(", ")
        );
        return Ok(());
    }
    for d in &response.diagnostics {
        print_diagnostic(&path, &condition, d);
    }
    anyhow::bail!(
        "{}: {} problem(s)",
        path.display(),
        response.diagnostics.len()
    )
}

/// Prints a diagnostic the way compilers do: position, message, the line and a caret.
fn print_diagnostic(path: &std::path::Path, condition: &str, d: &RuleDiagnostic) {
    if d.line == 0 {
        println!("{}: {}: {}", path.display(), d.field, d.message);
        return;
    }
    println!(
        "{}: {} line {}, column {}: {}",
        path.display(),
        d.field,
        d.line,
        d.column,
        d.message
    );
    if let Some(line) = condition.lines().nth(d.line as usize - 1) {
        println!("    {line}");
        let pad: String = line
            .chars()
            .take(d.column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        println!("    {pad}^");
    }
}

async fn dry_run(
    clients: &mut Clients,
    path: Option<PathBuf>,
    rule: Option<String>,
    version: Option<u32>,
    show: i32,
) -> anyhow::Result<()> {
    let mut request = DryRunRuleRequest {
        page_size: show,
        ..Default::default()
    };
    match (path, rule) {
        (Some(path), _) => request.definition = Some(file::read(&path)?),
        (None, Some(rule)) => {
            request.rule_id = find(clients, &rule).await?.id;
            request.version = version.unwrap_or(0);
        }
        (None, None) => anyhow::bail!("give a rule file or --rule NAME"),
    }
    let r = clients
        .rules
        .dry_run_rule(request)
        .await
        .map_err(describe)?
        .into_inner();
    println!(
        "would match {} of {} customers ({} evaluation errors)",
        r.matched, r.customers_evaluated, r.errors
    );
    if !r.first_error.is_empty() {
        println!("  first error: {}", r.first_error);
    }
    for m in &r.matches {
        let mut inputs: Vec<_> = m.inputs.iter().collect();
        inputs.sort();
        let inputs: Vec<String> = inputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("  {}  {}", m.customer_id, inputs.join("  "));
    }
    Ok(())
}

async fn set_enabled(clients: &mut Clients, rule: &str, enabled: bool) -> anyhow::Result<()> {
    let current = find(clients, rule).await?;
    let rule = clients
        .rules
        .set_rule_enabled(SetRuleEnabledRequest {
            rule_id: current.id,
            enabled,
        })
        .await
        .map_err(describe)?
        .into_inner()
        .rule
        .context("no rule in the answer")?;
    println!(
        "rule {} is {}",
        rule.name,
        if rule.enabled { "enabled" } else { "paused" }
    );
    Ok(())
}

async fn list(clients: &mut Clients) -> anyhow::Result<()> {
    let mut token = String::new();
    println!(
        "{:<32} {:>7} {:>9}  {:<8} id",
        "name", "latest", "published", "state"
    );
    loop {
        let page = clients
            .rules
            .list_rules(ListRulesRequest {
                page_size: 100,
                page_token: token,
            })
            .await
            .map_err(describe)?
            .into_inner();
        for r in &page.rules {
            println!(
                "{:<32} {:>7} {:>9}  {:<8} {}",
                r.name,
                r.latest_version,
                published(r),
                if r.enabled { "enabled" } else { "paused" },
                r.id
            );
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        token = page.next_page_token;
    }
}

async fn show(clients: &mut Clients, rule: &str) -> anyhow::Result<()> {
    let rule = find(clients, rule).await?;
    println!(
        "rule {} ({}): latest version {}, published {}, {}",
        rule.name,
        rule.id,
        rule.latest_version,
        published(&rule),
        if rule.enabled { "enabled" } else { "paused" }
    );
    let versions = clients
        .rules
        .list_rule_versions(ListRuleVersionsRequest {
            rule_id: rule.id,
            page_size: 50,
            page_token: String::new(),
        })
        .await
        .map_err(describe)?
        .into_inner()
        .versions;
    for v in versions {
        let when = v.created_at.map(timestamp).unwrap_or_default();
        let state = match v.published_at {
            Some(t) => format!("published {}", timestamp(t)),
            None => "draft".to_owned(),
        };
        let condition = v.definition.map(|d| d.condition).unwrap_or_default();
        println!("  v{:<3} {when}  by {:<20} {state}", v.version, v.author);
        println!("        {condition}");
    }
    Ok(())
}

async fn firings(clients: &mut Clients, rule: &str, limit: i32) -> anyhow::Result<()> {
    let rule = find(clients, rule).await?;
    let firings = clients
        .rules
        .list_firings(ListFiringsRequest {
            rule_id: rule.id,
            page_size: limit,
            ..Default::default()
        })
        .await
        .map_err(describe)?
        .into_inner()
        .firings;
    for f in firings {
        let when = f.fired_at.map(timestamp).unwrap_or_default();
        let group = if f.holdout { "  (control group)" } else { "" };
        println!(
            "{when}  v{}  customer {}{group}",
            f.rule_version, f.customer_id
        );
        for a in &f.action_results {
            println!("    {a}");
        }
    }
    Ok(())
}

async fn stats(clients: &mut Clients, rule: &str, window_days: u32) -> anyhow::Result<()> {
    let rule = find(clients, rule).await?;
    let s = clients
        .rules
        .get_rule_stats(GetRuleStatsRequest {
            rule_id: rule.id,
            window_days,
        })
        .await
        .map_err(describe)?
        .into_inner();
    println!(
        "rule {}, purchases counted {window_days} days after each firing",
        rule.name
    );
    println!("  firings                 {}", s.firings);
    println!("  customers matched       {}", s.customers_matched);
    println!("  customers contacted     {}", s.customers_contacted);
    println!("  control group           {}", s.holdout_customers);
    println!("  notifications sent      {}", s.notifications_sent);
    println!("  notifications suppressed {}", s.notifications_suppressed);
    println!("  evaluation errors       {}", s.evaluation_errors);
    println!(
        "  purchases per customer  {:.2} contacted, {:.2} control group",
        s.purchases_per_contacted_customer, s.purchases_per_holdout_customer
    );
    if !s.last_error.is_empty() {
        println!("  last error: {}", s.last_error);
    }
    Ok(())
}

/// A rule by id, or else by name.
async fn find(clients: &mut Clients, rule: &str) -> anyhow::Result<Rule> {
    if Uuid::parse_str(rule).is_ok() {
        let found = clients
            .rules
            .get_rule(GetRuleRequest {
                rule_id: rule.to_owned(),
            })
            .await;
        match found {
            Ok(r) => return r.into_inner().rule.context("no rule in the answer"),
            Err(s) if s.code() == tonic::Code::NotFound => {}
            Err(s) => return Err(describe(s)),
        }
    }
    let mut token = String::new();
    loop {
        let page = clients
            .rules
            .list_rules(ListRulesRequest {
                page_size: 100,
                page_token: token,
            })
            .await
            .map_err(describe)?
            .into_inner();
        if let Some(r) = page.rules.into_iter().find(|r| r.name == rule) {
            return Ok(r);
        }
        if page.next_page_token.is_empty() {
            anyhow::bail!("no rule named or with id {rule:?}");
        }
        token = page.next_page_token;
    }
}

/// The same inputs give the same request id, so running a command twice does
/// what running it once did.
fn request_id(parts: &[&str]) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, parts.join("\u{1f}").as_bytes()).to_string()
}

fn published(rule: &Rule) -> String {
    match rule.published_version {
        0 => "none".to_owned(),
        v => format!("v{v}"),
    }
}

fn timestamp(t: prost_types::Timestamp) -> String {
    chrono::DateTime::from_timestamp(t.seconds, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// A status as a person reads it: the message and every field violation.
pub fn describe(status: tonic::Status) -> anyhow::Error {
    use tonic_types::StatusExt;
    let mut text = format!("{}: {}", status.code(), status.message());
    if let Some(bad) = status.get_details_bad_request() {
        for v in bad.field_violations {
            text.push_str(&format!("\n  {}: {}", v.field, v.description));
        }
    }
    anyhow::anyhow!(text)
}
