//! Trying a rule before it counts: `rapport rules validate` shows each
//! problem where it is in the file, `rapport rules dry-run` whom the rule
//! would match now, contacting no one.

use std::path::{Path, PathBuf};

use rapport_proto::v1::{DryRunRuleRequest, RuleDiagnostic, ValidateRuleRequest};

use super::{file, lookup::find};
use crate::client::{Clients, answer};

/// Checks a rule file; fails with the number of problems after printing each.
pub(super) async fn validate(clients: &mut Clients, path: PathBuf) -> anyhow::Result<()> {
    let definition = file::read(&path)?;
    let condition = definition.condition.clone();
    let response = answer(
        clients
            .rules
            .validate_rule(ValidateRuleRequest {
                definition: Some(definition),
            })
            .await,
    )?;
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
fn print_diagnostic(path: &Path, condition: &str, d: &RuleDiagnostic) {
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

/// Evaluates a draft file, or a saved rule's version, against every
/// customer and lists the first `show` matches with the inputs they had.
pub(super) async fn dry_run(
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
    let r = answer(clients.rules.dry_run_rule(request).await)?;
    println!(
        "would match {} ({} evaluation errors)",
        dry_run_counts(&r),
        r.errors
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

/// A dry run's counts for people: exact within `scoring.dry_run_limit`,
/// estimated (and said so) when only a sample of the tenant was evaluated.
pub fn dry_run_counts(r: &rapport_proto::v1::DryRunRuleResponse) -> String {
    if r.sampled {
        format!(
            "about {} of about {} customers (estimated from a uniform sample of {}, of whom {} matched)",
            r.estimated_matched, r.estimated_customers, r.customers_evaluated, r.matched
        )
    } else {
        format!("{} of {} customers", r.matched, r.customers_evaluated)
    }
}
