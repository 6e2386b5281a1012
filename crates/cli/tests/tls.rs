//! Client commands against a suite served over mutual TLS, with
//! certificates made at test time: `rapport import` and `rapport rules`
//! trust the suite's CA with --ca-cert (or RAPPORT_CA_CERT) and present a
//! client certificate; without the CA or the certificate they fail at once,
//! saying which flag is missing.

use std::{path::Path, process::Output, time::Duration};

use rapport_kit::{
    config::Tls,
    testing::{
        free_port, fresh_dir,
        pki::{Ca, Leaf},
        run_ok,
    },
};

mod common;
use common::{Up, rapport, tenant_key};

/// The PEM files of one party: its CA, certificate and key.
struct Files {
    ca: String,
    cert: String,
    key: String,
}

fn files(dir: &Path, ca: &Ca, leaf: &Leaf, name: &str) -> Files {
    let (cert, key) = leaf.write(dir, name);
    let text = |p: &Path| p.to_str().unwrap().to_owned();
    Files {
        ca: text(&ca.write(dir)),
        cert: text(&cert),
        key: text(&key),
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_commands_reach_a_suite_served_over_mutual_tls() {
    let dir = fresh_dir();
    let ca = Ca::new("rapport cli test ca");
    let server = files(&dir, &ca, &ca.leaf("server", 1), "server");
    let client = files(&dir, &ca, &ca.leaf("analyst", 2), "client");

    let key = tenant_key(&dir, "acme");

    // The suite speaks TLS only, wants a certificate from `ca` of every
    // client, and calls itself through the same port with one.
    let port = free_port();
    let url = format!("https://127.0.0.1:{port}");
    let _up = Up::spawn(
        rapport(&dir)
            .args(["up", "--listen", &format!("127.0.0.1:{port}")])
            .env("RAPPORT_TLS__CERT_FILE", &server.cert)
            .env("RAPPORT_TLS__KEY_FILE", &server.key)
            .env("RAPPORT_TLS__CLIENT_CA_FILE", &server.ca)
            .env("RAPPORT_TLS__CA_FILE", &server.ca)
            .env("RAPPORT_TLS__CLIENT_CERT_FILE", &server.cert)
            .env("RAPPORT_TLS__CLIENT_KEY_FILE", &server.key),
    );
    let tls = Tls {
        ca_file: Some(client.ca.clone().into()),
        client_cert_file: Some(client.cert.clone().into()),
        client_key_file: Some(client.key.clone().into()),
        ..Tls::default()
    };
    rapport::client::wait_serving_over(&url, &tls, Duration::from_secs(60))
        .await
        .expect("the suite SERVING over TLS");

    let csv = dir.join("customers.csv");
    std::fs::write(
        &csv,
        "customer_id,name,kind,region\nC1,Ada,person,north\nC2,Ben,business,south\n",
    )
    .unwrap();
    let import = |extra: &[&str]| {
        let mut cmd = rapport(&dir);
        cmd.args(["import", "customers"])
            .arg(&csv)
            .args(["--server", &url, "--api-key", &key])
            .args(extra);
        cmd
    };

    let first = run_ok(&mut import(&[
        "--ca-cert",
        &client.ca,
        "--client-cert",
        &client.cert,
        "--client-key",
        &client.key,
    ]));
    assert!(first.contains("stored     2"), "{first}");
    // The same through the environment.
    let second = run_ok(
        import(&[])
            .env("RAPPORT_CA_CERT", &client.ca)
            .env("RAPPORT_CLIENT_CERT", &client.cert)
            .env("RAPPORT_CLIENT_KEY", &client.key),
    );
    assert!(second.contains("unchanged  2"), "{second}");
    let rules = run_ok(
        rapport(&dir)
            .args(["rules", "list", "--server", &url, "--api-key", &key])
            .args(["--ca-cert", &client.ca, "--client-cert", &client.cert])
            .args(["--client-key", &client.key]),
    );
    assert!(!rules.contains("error"), "{rules}");

    // Without --ca-cert only public roots are trusted: the private CA's
    // certificate is not, and the import stops at once instead of retrying.
    let untrusted = import(&["--client-cert", &client.cert, "--client-key", &client.key])
        .output()
        .unwrap();
    assert!(!untrusted.status.success());
    let said = stderr(&untrusted);
    assert!(
        said.contains("certificate is not trusted") && said.contains("--ca-cert"),
        "{said}"
    );
    assert!(!said.contains("batch retried"), "{said}");
    let listed = rapport(&dir)
        .args(["rules", "list", "--server", &url, "--api-key", &key])
        .output()
        .unwrap();
    assert!(!listed.status.success());
    assert!(stderr(&listed).contains("--ca-cert"), "{}", stderr(&listed));

    // Trusting the CA but presenting no certificate: the server refuses.
    let anonymous = import(&["--ca-cert", &client.ca]).output().unwrap();
    assert!(!anonymous.status.success());
    let said = stderr(&anonymous);
    assert!(said.contains("--client-cert"), "{said}");
    assert!(!said.contains("batch retried"), "{said}");

    // A certificate without its key, and a CA file that is not there, are
    // named before anything is sent.
    let half = import(&["--ca-cert", &client.ca, "--client-cert", &client.cert])
        .output()
        .unwrap();
    assert!(!half.status.success());
    assert!(
        stderr(&half).contains("--client-cert and --client-key"),
        "{}",
        stderr(&half)
    );
    let missing = dir.join("no-such-ca.pem");
    let gone = import(&["--ca-cert", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!gone.status.success());
    assert!(
        stderr(&gone).contains("--ca-cert") && stderr(&gone).contains("no-such-ca.pem"),
        "{}",
        stderr(&gone)
    );
}
