//! The scoring store's schema and its migrations. Each migration has a file
//! per backend under the same number and description; released files are
//! frozen, a change is a new file.

use rapport_kit::db::Migrations;

/// Schema (Postgres) or file name (SQLite) of the scoring store.
pub const SCHEMA: &str = "scoring";

/// Migrations of the scoring store.
pub const MIGRATIONS: Migrations = rapport_kit::migrations![
    (1, "scores", "0001_scores.sql"),
    (2, "customer value", "0002_customer_value.sql"),
    (3, "rules", "0003_rules.sql"),
    (4, "refresh status", "0004_refresh_status.sql"),
    (5, "dead letters", "0005_dead_letters.sql"),
    (6, "fair rules claim", "0006_fair_rules_claim.sql"),
    (7, "rules ids as uuid", "0007_rules_uuid.sql"),
    (8, "score changes", "0008_score_changes.sql"),
    (
        9,
        "score change subscriptions",
        "0009_score_change_subscriptions.sql"
    ),
    (10, "report runs", "0010_report_runs.sql"),
    (11, "erased customers", "0011_erased_customers.sql"),
    (12, "loyalty points", "0012_loyalty_points.sql"),
    (13, "customer categories", "0013_customer_categories.sql"),
    (14, "dedupe window", "0014_dedupe_window.sql"),
    (15, "population figures", "0015_population_figures.sql"),
    (16, "rules pass ranges", "0016_rules_pass_ranges.sql"),
    (
        17,
        "rule firings by rule and customer",
        "0017_rule_firings_by_customer.sql"
    ),
];
