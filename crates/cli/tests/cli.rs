//! The `rapport` binary as a user runs it: tenant create, up, import, demo,
//! and a clean exit on SIGTERM.

use std::process::Command;

use rapport_kit::testing::{free_port, run_ok};

mod common;
use common::{Up, rapport, tenant_key};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_up_import_and_sigterm() {
    let dir = rapport_kit::testing::fresh_dir();
    let key = tenant_key(&dir, "acme");
    assert!(key.starts_with("rpk_"));
    let dup = rapport(&dir)
        .args(["tenant", "create", "acme"])
        .output()
        .unwrap();
    assert!(
        !dup.status.success(),
        "a second tenant with the same name is refused"
    );

    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let up = Up::serving(&dir, port).await;

    let csv = dir.join("customers.csv");
    std::fs::write(&csv, "customer_id,name,kind,region\nC1,Ada,person,north\nC2,Ben,business,south\nC3,Cy,alien,east\n").unwrap();
    let import = |c: &mut Command| {
        c.args(["import", "customers"])
            .arg(&csv)
            .args(["--server", &url, "--api-key", &key]);
        run_ok(c)
    };
    let first = import(&mut rapport(&dir));
    assert!(first.contains("stored     2"), "{first}");
    assert!(first.contains("line 4: kind"), "{first}");
    let second = import(&mut rapport(&dir));
    assert!(
        second.contains("stored     0") && second.contains("unchanged  2"),
        "{second}"
    );
    let bad_key = rapport(&dir)
        .args(["import", "customers"])
        .arg(&csv)
        .args(["--server", &url, "--api-key", "rpk_wrong"])
        .output()
        .unwrap();
    assert!(!bad_key.status.success());
    assert!(
        String::from_utf8_lossy(&bad_key.stderr).contains("Unauthenticated")
            || String::from_utf8_lossy(&bad_key.stderr).contains("api key")
    );

    rules_and_templates(&dir, &url, &key);
    reports_as_csv(&dir, &url, &key).await;
    points_from_the_command_line(&dir, &url, &key).await;
    opportunities_as_csv(&dir, &url, &key).await;
    customers_export_and_erase(&dir, &url, &key).await;

    let status = up.stop().await;
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn demo_shows_scores() {
    let dir = rapport_kit::testing::fresh_dir();
    let out = run_ok(rapport(&dir).args([
        "demo",
        "--customers",
        "150",
        "--months",
        "13",
        "--seed",
        "7",
    ]));
    for section in [
        "Top customers by net spend",
        "Spend distribution",
        "Customers per segment",
        "Imported transactions",
        "Top customers by lifetime value",
        "Rules: a business user writes one",
        "refused: definition.condition line 1, column 7",
        "dry run: would match",
        "notifications the rule caused",
        "the demo's SMTP mailbox received",
    ] {
        assert!(out.contains(section), "missing {section:?} in:\n{out}");
    }
    assert!(out.contains("0 rejected"), "{out}");
    // The spend model fits the sample, and parameters come with their standard errors.
    let fitted = out
        .split("Fitted on all data")
        .nth(1)
        .unwrap_or_else(|| panic!("no fitted models in:\n{out}"));
    let gamma_gamma = fitted
        .lines()
        .find(|l| l.trim_start().starts_with("Gamma-Gamma"))
        .unwrap_or_else(|| panic!("no Gamma-Gamma line in:\n{out}"));
    assert!(
        gamma_gamma.contains(" p=") && gamma_gamma.contains("(±"),
        "{gamma_gamma}"
    );
    assert!(!gamma_gamma.contains("NOT converged"), "{gamma_gamma}");
}

/// A business user's round with `rapport rules` and `rapport templates`
/// against the running suite.
fn rules_and_templates(dir: &std::path::Path, url: &str, key: &str) {
    let client = |args: &[&str]| {
        let mut cmd = rapport(dir);
        cmd.args(args)
            .args(["--server", url, "--api-key", key])
            .env("RAPPORT_AUTHOR", "maria@example.com");
        cmd
    };
    let rule = dir.join("rule.toml");
    let write_rule = |condition: &str| {
        std::fs::write(
            &rule,
            format!(
                "name = \"big-spenders\"\ncondition = \"{condition}\"\n[[actions]]\ntag = \"vip\"\n"
            ),
        )
        .unwrap()
    };

    write_rule("score.montly_profit > 500.0");
    let refused = client(&["rules", "validate", rule.to_str().unwrap()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stdout);
    assert!(!refused.status.success(), "a misspelt field is refused");
    assert!(
        said.contains("line 1, column 7") && said.contains("monthly_profit"),
        "{said}"
    );
    assert!(said.contains("      ^"), "a caret under the column: {said}");

    write_rule("score.monthly_profit > 500.0");
    let ok = run_ok(&mut client(&["rules", "validate", rule.to_str().unwrap()]));
    assert!(ok.contains("score.monthly_profit"), "{ok}");
    let created = run_ok(&mut client(&["rules", "create", rule.to_str().unwrap()]));
    assert!(
        created.starts_with("created: rule big-spenders"),
        "{created}"
    );
    let again = run_ok(&mut client(&["rules", "create", rule.to_str().unwrap()]));
    assert!(again.starts_with("already created"), "{again}");
    run_ok(&mut client(&["rules", "publish", "big-spenders"]));

    write_rule("score.monthly_profit > 900.0");
    let v2 = run_ok(&mut client(&[
        "rules",
        "update",
        "big-spenders",
        rule.to_str().unwrap(),
    ]));
    assert!(
        v2.contains("version 2 saved as a draft (published: v1)"),
        "{v2}"
    );
    let back = run_ok(&mut client(&[
        "rules",
        "rollback",
        "big-spenders",
        "--to",
        "1",
    ]));
    assert!(
        back.contains("version 3 (a copy of version 1) is published"),
        "{back}"
    );
    let shown = run_ok(&mut client(&["rules", "show", "big-spenders"]));
    assert!(shown.contains("by maria@example.com"), "{shown}");
    assert!(shown.contains("score.monthly_profit > 900.0"), "{shown}");
    let listed = run_ok(&mut client(&["rules", "list"]));
    assert!(
        listed.contains("big-spenders") && listed.contains("v3"),
        "{listed}"
    );

    let template = dir.join("receipt.toml");
    std::fs::write(
        &template,
        "name = \"receipt\"\nchannel = \"email\"\nlocale = \"en\"\ndefault_locale = true\n\
         subject = \"Order {{ data.order_number }}\"\nbody = 'Thanks, {{ customer.first_name | default: \"you\" }}'\n\
         required_data = [\"order_number\"]\n",
    )
    .unwrap();
    let put = run_ok(&mut client(&[
        "templates",
        "put",
        template.to_str().unwrap(),
    ]));
    assert!(put.contains("saved as version 1"), "{put}");
    let put_again = run_ok(&mut client(&[
        "templates",
        "put",
        template.to_str().unwrap(),
    ]));
    assert!(put_again.contains("unchanged at version 1"), "{put_again}");
    let templates = run_ok(&mut client(&["templates", "list"]));
    assert!(
        templates.contains("receipt") && templates.contains("(default)"),
        "{templates}"
    );

    // The CRM is registered once, its secret from the environment, and a
    // rule posts to it by name.
    let put = |secret: &str| {
        let mut cmd = client(&[
            "endpoints",
            "put",
            "crm",
            "--url",
            "https://crm.example.com/rapport",
            "--description",
            "our CRM",
        ]);
        cmd.env("RAPPORT_ENDPOINT_SECRET", secret);
        cmd
    };
    let no_secret = put("").output().unwrap();
    assert!(!no_secret.status.success());
    let said = String::from_utf8_lossy(&no_secret.stderr);
    assert!(said.contains("signing_secret"), "{said}");
    let secret = "0123456789abcdef0123456789abcdef";
    let registered = run_ok(&mut put(secret));
    assert!(
        registered.starts_with("registered: endpoint crm posts to https://crm.example.com/rapport"),
        "{registered}"
    );
    assert!(run_ok(&mut put(secret)).starts_with("unchanged"));
    let listed = run_ok(&mut client(&["endpoints", "list"]));
    assert!(
        listed.contains("crm") && listed.contains("our CRM"),
        "{listed}"
    );
    assert!(!listed.contains(secret), "{listed}");
    std::fs::write(
        &rule,
        "name = \"crm-big-purchase\"\ncondition = \"event.amount > 100.0\"\n\
         trigger = \"event\"\nevent_kinds = [\"purchase\"]\n[[actions]]\nwebhook = \"crm\"\n",
    )
    .unwrap();
    let created = run_ok(&mut client(&["rules", "create", rule.to_str().unwrap()]));
    assert!(
        created.starts_with("created: rule crm-big-purchase"),
        "{created}"
    );
}

/// `rapport points`: a programme set, a purchase imported earning its
/// points (found by the customer's ERP identity), the ledger as CSV, a
/// redemption beyond the balance refused and one within it made.
async fn points_from_the_command_line(dir: &std::path::Path, url: &str, key: &str) {
    let client = |args: &[&str]| {
        let mut cmd = rapport(dir);
        cmd.args(args).args(["--server", url, "--api-key", key]);
        cmd
    };
    let set = run_ok(&mut client(&[
        "points",
        "programme",
        "set",
        "--per-unit",
        "2",
        "--category",
        "books=1.5",
        "--welcome",
        "10",
        "--expiry-months",
        "12",
    ]));
    assert!(set.contains("points per unit  2"), "{set}");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let csv = dir.join("points.csv");
    std::fs::write(
        &csv,
        format!(
            "transaction_id,customer_id,kind,occurred_at,amount,currency,category\n\
             P1,C1,purchase,{now},20.00,EUR,books\n"
        ),
    )
    .unwrap();
    run_ok(client(&["import", "transactions"]).arg(&csv));
    // The relay delivers the purchase to scoring in the background.
    let mut balance = String::new();
    for _ in 0..100 {
        balance = run_ok(&mut client(&["points", "balance", "erp:C1"]));
        if !balance.contains("balance       0") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // 20 € × 2 × 1.5 = 60, and the welcome bonus.
    assert!(balance.contains("balance       70"), "{balance}");
    let ledger = run_ok(&mut client(&["points", "ledger", "erp:C1"]));
    let mut lines = ledger.lines();
    assert_eq!(
        lines.next(),
        Some("recorded_at,occurred_at,kind,points,balance_after,expires_at,entry_id,reason")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{ledger}");
    assert!(rows[0].contains(",accrual,60,70,"), "{ledger}");
    assert!(
        rows[0].ends_with("20 EUR × 2 point/unit × 1.5 (category books) = 60"),
        "{ledger}"
    );
    assert!(rows[1].contains(",welcome_bonus,10,10,"), "{ledger}");
    let refused = client(&["points", "redeem", "erp:C1", "71"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("the balance is 70"), "{said}");
    let spent = run_ok(&mut client(&[
        "points",
        "redeem",
        "erp:C1",
        "70",
        "--request-id",
        "v1",
    ]));
    assert!(spent.contains("balance       0"), "{spent}");
}

/// `rapport opportunities`: a pipeline history ingested for two ERP
/// accounts, refitted by the background job, listed with probabilities and
/// rolled up per account.
async fn opportunities_as_csv(dir: &std::path::Path, url: &str, key: &str) {
    use rapport_proto::v1::{
        ExternalIdentity, IngestOpportunityEventsRequest, Money, OpportunityEvent,
        OpportunityEventKind as Kind,
    };
    let client = |args: &[&str]| {
        let mut cmd = rapport(dir);
        cmd.args(args).args(["--server", url, "--api-key", key]);
        cmd
    };
    let now = chrono::Utc::now().timestamp();
    let at = |days: i64| {
        Some(prost_types::Timestamp {
            seconds: now - days * 86_400,
            nanos: 0,
        })
    };
    let mut events = Vec::new();
    // 24 closed (every other one won) and 2 open, for C1 and C2.
    for n in 0..26i64 {
        let event = |k: &str, kind: Kind, stage: &str, days: i64| OpportunityEvent {
            source: "crm".into(),
            external_id: format!("E-{n}-{k}"),
            customer: Some(ExternalIdentity {
                source: "erp".into(),
                external_id: if n % 2 == 0 { "C1" } else { "C2" }.into(),
            }),
            opportunity_id: format!("O-{n}"),
            kind: kind as i32,
            stage: stage.into(),
            amount: Some(Money {
                currency_code: "EUR".into(),
                minor_units: 100_000,
            }),
            occurred_at: at(days),
            ..Default::default()
        };
        events.push(event("c", Kind::Created, "qualify", 60));
        match n {
            24 | 25 => {}
            n if n % 2 == 0 => events.push(event("w", Kind::Won, "qualify", 30)),
            _ => events.push(event("l", Kind::Lost, "qualify", 30)),
        }
    }
    let mut clients = rapport::client::Clients::connect(url, key).unwrap();
    let answer = clients
        .opportunities
        .ingest_opportunity_events(IngestOpportunityEventsRequest { events })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.rejected.is_empty(), "{answer:?}");
    // The refit job runs in the background.
    let mut listed = String::new();
    for _ in 0..150 {
        listed = run_ok(&mut client(&["opportunities", "list", "--status", "open"]));
        if listed.lines().count() == 3 && listed.contains(",0.8750,") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let mut lines = listed.lines();
    assert_eq!(
        lines.next(),
        Some(
            "opportunity,customer_id,status,stage,amount,probability,expected_value,expected_close,why"
        )
    );
    // By hand: half the qualify stays ended won (0.5); C1's 12 wins shrink
    // to (12 + 4 × 0.5) / (12 + 4) = 0.875 against the tenant's 0.5, odds
    // × 7, so 0.875; C2's 12 losses to 0.125, odds × 1/7, so 0.125.
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter()
            .any(|l| l.starts_with("crm:O-24,")
                && l.contains(",open,qualify,1000.00,0.8750,875.00,")),
        "{listed}"
    );
    assert!(
        rows.iter()
            .any(|l| l.starts_with("crm:O-25,")
                && l.contains(",open,qualify,1000.00,0.1250,125.00,")),
        "{listed}"
    );
    let pipeline = client(&["opportunities", "pipeline", "account"])
        .output()
        .unwrap();
    assert!(pipeline.status.success());
    let csv = String::from_utf8_lossy(&pipeline.stdout);
    assert!(
        csv.starts_with("key,accounts,open,open_amount,expected_value,won,won_amount,lost\n"),
        "{csv}"
    );
    // Each account: one open; C1 won its 12 closed, C2 lost its 12.
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains(",1,1,1000.00,875.00,12,12000.00,0"), "{csv}");
    assert!(csv.contains(",1,1,1000.00,125.00,0,0.00,12"), "{csv}");
    let said = String::from_utf8_lossy(&pipeline.stderr);
    assert!(said.contains("on 12 won and 12 lost"), "{said}");
}

/// `rapport report`: a run started and waited for, a breakdown as CSV
/// matching the customers the API lists, a filtered ranking run on demand.
async fn reports_as_csv(dir: &std::path::Path, url: &str, key: &str) {
    let client = |args: &[&str]| {
        let mut cmd = rapport(dir);
        cmd.args(args).args(["--server", url, "--api-key", key]);
        cmd
    };
    let missing = client(&["report", "breakdown", "region"]).output().unwrap();
    assert!(!missing.status.success(), "no report before the first run");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("rapport report start --wait"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    let run_id = run_ok(&mut client(&["report", "start", "--wait"]));
    let run_id = run_id.trim();
    assert_eq!(run_id.len(), 36, "a run id: {run_id}");

    let mut clients = rapport::client::Clients::connect(url, key).unwrap();
    let listed = clients
        .profiles
        .list_customers(rapport_proto::v1::ListCustomersRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut by_region = std::collections::BTreeMap::<String, usize>::new();
    for c in &listed.customers {
        let region = c
            .attributes
            .get("region")
            .cloned()
            .unwrap_or("unknown".into());
        *by_region.entry(region).or_default() += 1;
    }
    let csv = run_ok(&mut client(&[
        "report",
        "breakdown",
        "region",
        "--run",
        run_id,
    ]));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "value,customers,purchasers,net_spend,margin,monthly_profit,equity,\
             average_lifetime_value,past_value,share_of_wallet,wallet_customers"
        )
    );
    let mut got = std::collections::BTreeMap::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        got.insert(cells[0].to_owned(), cells[1].parse::<usize>().unwrap());
    }
    assert_eq!(got, by_region, "{csv}");

    let top = run_ok(&mut client(&[
        "report",
        "top",
        "net-spend",
        "--limit",
        "5",
        "--where",
        "region=north",
    ]));
    let mut rows = top.lines();
    assert_eq!(rows.next(), Some("rank,customer_id,display_name,value"));
    let north: Vec<&str> = rows.collect();
    assert_eq!(north.len(), by_region["north"], "{top}");
    assert!(north.iter().any(|l| l.contains(",Ada,")), "{top}");
    let runs = run_ok(&mut client(&["report", "runs"]));
    // The two started here (the refresh worker may have queued its own).
    assert!(
        runs.lines().filter(|l| l.contains("(api)")).count() == 2,
        "{runs}"
    );
    assert!(
        runs.contains(&format!("{run_id}  succeeded (api)")),
        "{runs}"
    );
    // No purchase yet, so no pairs and nobody to cross-sell: the headers.
    let affinity = run_ok(&mut client(&["report", "affinity", "--run", run_id]));
    assert_eq!(
        affinity,
        "category,also_bought,customers,category_customers,also_bought_customers,support,\
         confidence,lift\n"
    );
    let cross_sell = run_ok(&mut client(&["report", "cross-sell"]));
    assert!(
        cross_sell.starts_with(
            "rank,customer_id,display_name,expected_value,order_value,bought_category,\
             recommended_category,confidence,lift,support,purchases,days_since_last_purchase,\
             reason\n"
        ) && cross_sell.lines().count() == 1,
        "{cross_sell}"
    );
    let ada = &listed
        .customers
        .iter()
        .find(|c| c.display_name == "Ada")
        .unwrap()
        .id;
    let likely = run_ok(&mut client(&["report", "cross-sell", "--customer", ada]));
    assert!(likely.starts_with("rank,category,also_bought,"), "{likely}");
    assert_eq!(likely.lines().count(), 1, "{likely}");
    let bad = client(&["report", "cross-sell", "--customer", "C1"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("customer_id"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let bad = client(&["report", "top", "net-spend", "--where", "planet=mars"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown dimension"));
}

async fn customers_export_and_erase(dir: &std::path::Path, url: &str, key: &str) {
    let mut clients = rapport::client::Clients::connect(url, key).unwrap();
    let listed = clients
        .profiles
        .list_customers(rapport_proto::v1::ListCustomersRequest::default())
        .await
        .unwrap()
        .into_inner();
    let id = listed.customers[0].id.clone();
    let client = |args: &[&str]| {
        let mut cmd = rapport(dir);
        cmd.args(args).args(["--server", url, "--api-key", key]);
        cmd
    };
    let exported = run_ok(&mut client(&["customers", "export", &id]));
    let doc: serde_json::Value = serde_json::from_str(&exported).expect("JSON");
    assert_eq!(doc["customer_id"], id.as_str(), "{doc}");
    assert!(doc["ingestion"]["transactions"].is_array(), "{doc}");
    let erased = run_ok(&mut client(&["customers", "erase", &id]));
    assert!(
        erased.starts_with(&format!("erased {id}: erasure ")),
        "{erased}"
    );
    assert!(erased.contains("profiles.customers"), "{erased}");
    let again = run_ok(&mut client(&["customers", "erase", &id]));
    assert!(again.starts_with("nothing to erase"), "{again}");
    let gone = client(&["customers", "export", &id]).output().unwrap();
    assert!(
        !gone.status.success(),
        "an erased customer cannot be exported"
    );
}
