//! TLS on the gRPC servers and their internal clients, and to Postgres,
//! against real TLS endpoints with certificates made at test time: plaintext
//! refused, client certificates required when configured, a renewed
//! certificate served without a restart.

use std::{net::SocketAddr, path::Path, time::Duration};

use rapport::{client::Clients, suite::Suite};
use rapport_kit::{
    Db,
    app::App,
    config::{Config, Secret, Tls},
    internal::lazy_channel,
    peers::{PeerClients, channel},
    testing::{
        self, Backend,
        instances::{Options, Postgres},
        pki::{self, Ca, Leaf},
    },
};
use rapport_proto::v1::{GetCustomerRequest, profiles_service_client::ProfilesServiceClient};
use tonic::{Code, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// A server with the profiles service, configured by `config`; stopped on
/// drop of the returned app's shutdown.
async fn serve(config: Config) -> (App, SocketAddr) {
    let app = App::new(config.clone(), false).expect("app");
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut server = app.server();
    rapport_profiles::add_to(&mut server, app.db(rapport_profiles::SCHEMA).expect("db"));
    tokio::spawn(server.serve(listener, app.shutdown.clone()));
    (app, addr)
}

/// Configuration serving TLS with `server`'s files in `dir`.
async fn tls_config(dir: &Path, server: &Leaf) -> Config {
    let mut config = testing::config(Backend::Sqlite).await;
    let (cert, key) = server.write(dir, "server");
    config.tls.cert_file = Some(cert);
    config.tls.key_file = Some(key);
    config
}

/// Configuration serving mutual TLS and calling its peers (itself) with a
/// certificate of the same CA, all files in `dir`.
async fn mutual(dir: &Path) -> Config {
    let ca = Ca::new("rapport test ca");
    let config = tls_config(dir, &ca.leaf("server", 1)).await;
    let client = trusting(dir, &ca, Some(&ca.leaf("scoring", 2)));
    Config {
        tls: Tls {
            cert_file: config.tls.cert_file.clone(),
            key_file: config.tls.key_file.clone(),
            client_ca_file: client.ca_file.clone(),
            ..client
        },
        ..config
    }
}

/// Client settings trusting `ca`, presenting `client` when given.
fn trusting(dir: &Path, ca: &Ca, client: Option<&Leaf>) -> Tls {
    let mut tls = Tls {
        ca_file: Some(ca.write(dir)),
        ..Tls::default()
    };
    if let Some(leaf) = client {
        let (cert, key) = leaf.write(dir, "client");
        tls.client_cert_file = Some(cert);
        tls.client_key_file = Some(key);
    }
    tls
}

/// The overall health status the server on `channel` reports, once it
/// answers SERVING within five seconds; the last error otherwise.
async fn serving(channel: Channel) -> Result<(), tonic::Status> {
    let mut client = HealthClient::new(channel);
    let mut last = None;
    for _ in 0..100 {
        match client.check(HealthCheckRequest::default()).await {
            Ok(r) if r.get_ref().status == 1 => return Ok(()),
            Ok(_) => {}
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(last.unwrap_or_else(|| tonic::Status::unavailable("never SERVING")))
}

/// Fails unless `result` is a failed connection: no status came from the
/// server, the handshake or the transport failed.
fn refused(result: Result<(), tonic::Status>, what: &str) {
    let err = result.expect_err(what);
    let transport =
        std::error::Error::source(&err).is_some_and(|s| s.is::<tonic::transport::Error>());
    assert!(transport, "{what}: {err:?}");
}

fn https(addr: SocketAddr) -> String {
    format!("https://{addr}")
}

fn over(url: &str, tls: &Tls) -> Channel {
    channel(url, tls, Duration::from_secs(5)).expect("channel")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_server_answers_tls_clients_and_refuses_plaintext() {
    let dir = testing::fresh_dir();
    let ca = Ca::new("rapport test ca");
    let mut config = tls_config(&dir, &ca.leaf("server", 1)).await;
    let health_port = testing::free_port();
    config.tls.health_listen = Some(([127, 0, 0, 1], health_port).into());
    let (app, addr) = serve(config).await;

    serving(over(&https(addr), &trusting(&dir, &ca, None)))
        .await
        .expect("a client trusting the CA is answered");

    let plain = lazy_channel(&format!("http://{addr}"), Duration::from_secs(5)).unwrap();
    refused(serving(plain).await, "a plaintext client was answered");

    // Probes that cannot speak TLS get health, and nothing else, in plaintext.
    let probe = format!("http://127.0.0.1:{health_port}");
    serving(lazy_channel(&probe, Duration::from_secs(5)).unwrap())
        .await
        .expect("plaintext health for probes");
    let mut profiles =
        ProfilesServiceClient::new(lazy_channel(&probe, Duration::from_secs(5)).unwrap());
    let err = profiles
        .get_customer(GetCustomerRequest::default())
        .await
        .expect_err("the health port served an API call");
    assert_eq!(err.code(), Code::Unimplemented, "{err:?}");

    let other = testing::fresh_dir();
    let stranger = Ca::new("another ca");
    refused(
        serving(over(&https(addr), &trusting(&other, &stranger, None))).await,
        "a client trusting another CA accepted the certificate",
    );
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_certificate_from_the_client_ca() {
    let dir = testing::fresh_dir();
    let ca = Ca::new("rapport test ca");
    let mut config = tls_config(&dir, &ca.leaf("server", 1)).await;
    config.tls.client_ca_file = Some(ca.write(&dir));
    let (app, addr) = serve(config).await;

    let without = testing::fresh_dir();
    refused(
        serving(over(&https(addr), &trusting(&without, &ca, None))).await,
        "a client without a certificate was answered",
    );

    let foreign = testing::fresh_dir();
    let stranger = Ca::new("another ca").leaf("intruder", 7);
    refused(
        serving(over(
            &https(addr),
            &trusting(&foreign, &ca, Some(&stranger)),
        ))
        .await,
        "a certificate from another CA was accepted",
    );

    let with = testing::fresh_dir();
    let client = ca.leaf("ingestion", 2);
    serving(over(&https(addr), &trusting(&with, &ca, Some(&client))))
        .await
        .expect("a client with a certificate from the client CA is answered");
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_certificate_is_served_to_new_connections_without_a_restart() {
    let dir = testing::fresh_dir();
    let ca = Ca::new("rapport test ca");
    let first = ca.leaf("server", 1);
    let (app, addr) = serve(tls_config(&dir, &first).await).await;
    assert_eq!(pki::presented(addr, &ca).await, first.der);

    // Renewed in place, as a certificate manager writes a mounted secret.
    let renewed = ca.leaf("server", 2);
    renewed.write(&dir, "server");
    assert_eq!(pki::presented(addr, &ca).await, renewed.der);
    serving(over(&https(addr), &trusting(&dir, &ca, None)))
        .await
        .expect("answered under the renewed certificate");

    // Files that do not load (a key of another certificate) leave the
    // renewed certificate in place.
    std::fs::write(dir.join("server.key"), ca.leaf("server", 3).key_pem).unwrap();
    assert_eq!(pki::presented(addr, &ca).await, renewed.der);
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_clients_call_peers_through_mutual_tls() {
    let config = mutual(&testing::fresh_dir()).await;
    let (app, addr) = serve(config.clone()).await;

    // The process's own port, named http:// as the all-in-one process does.
    let peers = PeerClients::new(&config).or_at(format!("http://{addr}"));
    let mut profiles = peers.profiles().expect("profiles client");
    serving(over(&https(addr), &config.tls))
        .await
        .expect("serving to the service's own certificate");
    let (tenant, _) = app.auth.tenants().create("acme", "EUR").await.unwrap();
    let unknown = GetCustomerRequest {
        customer_id: uuid::Uuid::new_v4().to_string(),
    };
    let mut answer = Err(tonic::Status::unavailable("not tried"));
    for _ in 0..100 {
        answer = profiles
            .get_customer(app.internal.request(tenant.id, None, unknown.clone()))
            .await;
        if !matches!(&answer, Err(e) if e.code() == Code::Unavailable) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let err = answer.expect_err("an unknown customer found");
    assert_eq!(err.code(), Code::NotFound, "the handler answered: {err:?}");
    app.shutdown.trigger();
}

/// Whether a service pool on `url` answers within two seconds.
async fn answers(url: &str) -> bool {
    let config = Config {
        database_url: Some(Secret::new(url)),
        ..Config::default()
    };
    let db = Db::connect_lazy(&config, "tls_probe").expect("pool");
    tokio::time::timeout(Duration::from_secs(2), db.ping())
        .await
        .is_ok_and(|r| r.is_ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_reach_a_postgres_that_requires_tls_with_sslmode_verify_full() {
    let certs = testing::fresh_dir();
    let ca = Ca::new("rapport test ca");
    let ca_file = ca.write(&certs);
    let (cert, key) = ca.leaf("postgres", 1).write(&certs, "server");
    // Only TLS connections are let in (this file replaces initdb's).
    let hba = certs.join("pg_hba.conf");
    std::fs::write(
        &hba,
        "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
    )
    .unwrap();
    let options = Options::default()
        .file(cert)
        .file(key)
        .file(hba)
        .line("ssl = on")
        .line("ssl_cert_file = '{dir}/server.pem'")
        .line("ssl_key_file = '{dir}/server.key'");
    let pg = Postgres::spawn(options).await;

    let verified = |ca: &Path| {
        format!(
            "{}?sslmode=verify-full&sslrootcert={}",
            pg.url(),
            ca.display()
        )
    };
    assert!(
        !answers(&format!("{}?sslmode=disable", pg.url())).await,
        "the server took a plaintext connection"
    );
    let stranger = testing::fresh_dir();
    assert!(
        !answers(&verified(&Ca::new("another ca").write(&stranger))).await,
        "a certificate from another CA was trusted"
    );

    // The services migrate, serve and write through it.
    let mut config = testing::config(Backend::Sqlite).await;
    config.database_url = Some(Secret::new(verified(&ca_file)));
    let (app, addr) = serve(config).await;
    serving(lazy_channel(&format!("http://{addr}"), Duration::from_secs(5)).unwrap())
        .await
        .expect("serving once migrated over TLS");
    let (tenant, _) = app.auth.tenants().create("acme", "EUR").await.unwrap();
    assert_eq!(tenant.name, "acme");
    app.shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_all_in_one_process_scores_a_purchase_through_mutual_tls() {
    let config = mutual(&testing::fresh_dir()).await;
    let tls = config.tls.clone();
    let suite = Suite::start(config).await.expect("suite");
    assert!(suite.url().starts_with("https://"), "{}", suite.url());
    suite
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("every service SERVING over TLS");
    let (_, key) = rapport_tests::all_in_one::tenant(&suite, "acme").await;
    let mut clients = Clients::connect_over(&suite.url(), &key, &tls).unwrap();
    // Ingestion resolves the customer through Profiles and its relay
    // delivers to Scoring: both calls go through the process's own TLS port.
    let purchase = rapport_tests::purchase("R-1", "C-1", 1, 4_200);
    let within = Duration::from_secs(15);
    let scored = rapport_tests::first_purchase_scored(&mut clients, purchase, within).await;
    assert!(scored.is_some(), "the purchase was never scored");
    suite.stop().await.unwrap();
}
