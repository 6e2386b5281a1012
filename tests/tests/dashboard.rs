//! The web dashboard in a real browser: the all-in-one process with a small
//! tenant (the demo's generator: 120 customers over 13 months, a rule that
//! emails and tags with a control group, fitted models, a report run), then
//! `tests/node/dashboard.mjs` drives Debian's headless Chromium through
//! playwright-core: it signs in, checks every page's figures against the
//! JSON API, downloads the CSV files, works the controls by keyboard, and
//! fails on any console error or failed request. Screenshots of each page
//! are kept in `target/ui-screenshots/`.
//!
//! Needs `chromium` on PATH (or in `CHROMIUM`; `.ci/run` installs it) and the
//! Node packages (`npm ci --prefix tests/node`; `scripts/test` runs it).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use rapport::{
    client::Clients,
    import::{ImportOptions, import_customers, import_transactions},
};
use rapport_kit::testing::{
    self, Backend,
    smtp::{Options, SmtpServer},
};
use rapport_proto::v1::{
    Channel, CreateCustomerRequest, CreateRuleRequest, Customer, DryRunRuleRequest,
    ExternalIdentity, FitModelsRequest, GetReportRequest, GetRuleStatsRequest,
    GetRuleStatsResponse, IngestTransactionsRequest, ListReportsRequest, NotifyAction,
    PointsProgramme, PublishRuleRequest, PutPointsProgrammeRequest, PutTemplateRequest,
    ReportRunState, RuleAction, RuleDefinition, RuleTrigger, StartReportRequest,
    SummarizeScoresRequest, TagAction, Template, rule_action,
};
use rapport_tests::{all_in_one, purchase};

/// A customer whose name a page must show as text and a CSV must quote.
const TRICKY_NAME: &str = "Smith, \"Ace\" <b>& Co</b>";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_shows_the_api_figures_in_a_real_browser() {
    let chromium = chromium();
    let node_dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/node"));
    assert!(
        node_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run `npm ci --prefix tests/node` (scripts/test does)"
    );
    // The rule's emails go to a real SMTP server, so they count as contacts.
    let smtp = SmtpServer::start(Options::default()).await;
    let mut config = testing::config(Backend::Sqlite).await;
    config.update_section(|n: &mut rapport_notifications::config::NotifyConfig| {
        n.smtp.host = Some("127.0.0.1".into());
        n.smtp.port = smtp.port;
        n.smtp.tls = rapport_notifications::config::SmtpTls::None;
        n.smtp.from = "Shop <shop@example.com>".into();
    });
    // Report runs only when the test starts one (the refresh button counts
    // the runs before and after).
    config.update_section(|r: &mut rapport_scoring::ReportsConfig| r.interval_hours = 0);
    let suite = all_in_one::serving(config).await;
    let (_, key) = all_in_one::tenant(&suite, "acme").await;
    let mut clients = all_in_one::clients(&suite, &key);

    let rule_id = publish_rule(&mut clients).await;
    load(&mut clients).await;
    settle_rule(&mut clients, &rule_id).await;
    clients
        .scoring
        .fit_models(FitModelsRequest::default())
        .await
        .expect("models fitted");
    run_report(&mut clients).await;

    let screenshots = target_dir().join("ui-screenshots");
    let out = Command::new("node")
        .arg(node_dir.join("dashboard.mjs"))
        .current_dir(node_dir)
        .env("RAPPORT_URL", suite.url())
        .env("RAPPORT_API_KEY", &key)
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOTS", &screenshots)
        .env("QUOTED_NAME", TRICKY_NAME)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test failed:\n{stderr}\n{stdout}\n(screenshots in {})",
        screenshots.display()
    );
    println!("{stdout}");
    for page in [
        "sign-in",
        "overview",
        "customers",
        "customer",
        "rules",
        "reports",
        "overview-refreshed",
    ] {
        assert!(
            screenshots.join(format!("{page}.png")).is_file(),
            "no screenshot of {page}"
        );
    }
    suite.stop().await.expect("stopped");
}

/// Debian's Chromium: `CHROMIUM`, else `chromium` (or `chromium-browser`)
/// on PATH. Missing, the test fails: CI installs it, so a skip would hide a
/// broken install.
fn chromium() -> PathBuf {
    fn missing() -> ! {
        panic!(
            "Chromium is not installed: the dashboard's browser test needs it \
             (`apt-get install -y chromium`, as .ci/run does), or set CHROMIUM to its path"
        )
    }
    if let Some(path) = std::env::var_os("CHROMIUM") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            missing();
        }
        return path;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file());
    match found {
        Some(p) => p,
        None => missing(),
    }
}

/// The workspace's target directory (`CARGO_TARGET_DIR` when set).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// An email rule with a tag and a 30% control group, published before the
/// purchases arrive so that it fires as they are scored.
async fn publish_rule(clients: &mut Clients) -> String {
    clients
        .notifications
        .put_template(PutTemplateRequest {
            template: Some(Template {
                name: "thanks".into(),
                channel: Channel::Email as i32,
                locale: "en".into(),
                subject: "Thank you".into(),
                body: "Thank you for your purchases.\r\n".into(),
                default_locale: true,
                ..Default::default()
            }),
        })
        .await
        .expect("template saved");
    let definition = RuleDefinition {
        name: "thank-regulars".into(),
        condition: "score.purchase_count >= 6".into(),
        trigger: RuleTrigger::ScoreChange as i32,
        holdout_percent: 30,
        actions: vec![
            RuleAction {
                action: Some(rule_action::Action::Notify(NotifyAction {
                    channel: Channel::Email as i32,
                    template: "thanks".into(),
                    locale: "en".into(),
                    ..Default::default()
                })),
            },
            RuleAction {
                action: Some(rule_action::Action::Tag(TagAction {
                    tag: "regular".into(),
                })),
            },
        ],
        ..Default::default()
    };
    let rule = clients
        .rules
        .create_rule(CreateRuleRequest {
            request_id: "dashboard-rule".into(),
            author: "test".into(),
            definition: Some(definition),
        })
        .await
        .expect("rule created")
        .into_inner()
        .rule
        .expect("a rule");
    clients
        .rules
        .publish_rule(PublishRuleRequest {
            rule_id: rule.id.clone(),
            version: rule.latest_version,
        })
        .await
        .expect("rule published");
    rule.id
}

/// The demo's sample (as CSV, through the import) plus one customer with a
/// name that needs quoting, who spends the most; then waits until every
/// purchase is scored.
async fn load(clients: &mut Clients) {
    let sample = rapport::demo::generate(7, 120, 13, chrono::Utc::now());
    let dir = testing::fresh_dir();
    let (customers_csv, transactions_csv) = (dir.join("c.csv"), dir.join("t.csv"));
    sample
        .write_csv(&customers_csv, &transactions_csv)
        .expect("CSV written");
    // A points programme earning back to the sample's first month.
    let since = chrono::Utc::now() - chrono::Duration::days(31 * 14);
    clients
        .loyalty
        .put_points_programme(PutPointsProgrammeRequest {
            programme: Some(PointsProgramme {
                points_per_unit: 1.0,
                welcome_bonus: 50,
                expiry_months: 12,
                started_at: Some(rapport_kit::domain::chrono_to_timestamp(since)),
                ..Default::default()
            }),
        })
        .await
        .expect("programme put");
    let opts = ImportOptions::default();
    import_customers(clients, &customers_csv, &opts)
        .await
        .expect("customers imported");
    import_transactions(clients, &transactions_csv, &opts)
        .await
        .expect("transactions imported");
    clients
        .profiles
        .create_customer(CreateCustomerRequest {
            request_id: "tricky".into(),
            customer: Some(Customer {
                display_name: TRICKY_NAME.into(),
                identities: vec![ExternalIdentity {
                    source: "erp".into(),
                    external_id: "C-TRICKY".into(),
                }],
                ..Default::default()
            }),
        })
        .await
        .expect("customer created");
    let answer = clients
        .ingestion
        .ingest_transactions(IngestTransactionsRequest {
            transactions: vec![purchase("T-TRICKY", "C-TRICKY", 3, 5_000_000)],
        })
        .await
        .expect("purchase ingested")
        .into_inner();
    assert_eq!(answer.accepted, 1, "{answer:?}");

    let expected_net = sample.net_spend_minor() + 5_000_000;
    let expected_customers = sample.customers_with_transactions() + 1;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        let s = clients
            .scoring
            .summarize_scores(SummarizeScoresRequest {})
            .await
            .expect("summary")
            .into_inner();
        let net = s.net_spend.map(|m| m.minor_units).unwrap_or(0);
        if net == expected_net && s.customers as usize == expected_customers {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "scores did not catch up: {net} of {expected_net}, {} of {expected_customers} customers",
            s.customers
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the rule has fired for every customer its condition holds
/// for, and its figures stop moving (the page and the API are then read
/// against the same figures).
async fn settle_rule(clients: &mut Clients, rule_id: &str) {
    let matched = clients
        .rules
        .dry_run_rule(DryRunRuleRequest {
            rule_id: rule_id.into(),
            ..Default::default()
        })
        .await
        .expect("dry run")
        .into_inner()
        .matched;
    assert!(matched > 5, "the rule matches a few customers: {matched}");
    let stats = async |clients: &mut Clients| -> GetRuleStatsResponse {
        clients
            .rules
            .get_rule_stats(GetRuleStatsRequest {
                rule_id: rule_id.into(),
                window_days: 30,
            })
            .await
            .expect("rule stats")
            .into_inner()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut last = stats(clients).await;
    loop {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let now = stats(clients).await;
        if now.customers_matched >= matched && now == last {
            let firings = clients
                .rules
                .list_firings(rapport_proto::v1::ListFiringsRequest {
                    rule_id: rule_id.into(),
                    page_size: 5,
                    ..Default::default()
                })
                .await
                .expect("firings")
                .into_inner()
                .firings;
            assert!(
                now.customers_contacted > 0 && now.holdout_customers > 0,
                "{now:?} {firings:?}"
            );
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rule did not settle: {now:?}, {matched} matched by the dry run"
        );
        last = now;
    }
}

/// Starts a report run and waits until it and any other run have finished.
async fn run_report(clients: &mut Clients) {
    let run = clients
        .reports
        .start_report(StartReportRequest {
            request_id: "dashboard-test".into(),
            rankings: Vec::new(),
        })
        .await
        .expect("report started")
        .into_inner()
        .run
        .expect("a run");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let answer = clients
            .reports
            .get_report(GetReportRequest {
                run_id: run.run_id.clone(),
            })
            .await
            .expect("report run")
            .into_inner();
        let state = answer.run.as_ref().map(|r| r.state());
        assert_ne!(state, Some(ReportRunState::Failed), "{:?}", answer.run);
        let runs = clients
            .reports
            .list_reports(ListReportsRequest::default())
            .await
            .expect("runs")
            .into_inner()
            .runs;
        let busy = runs
            .iter()
            .any(|r| matches!(r.state(), ReportRunState::Queued | ReportRunState::Running));
        if state == Some(ReportRunState::Succeeded) && !busy {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the report run did not finish: {:?}",
            answer.run
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
