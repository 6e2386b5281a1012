//! The service binary and its metrics port: a bad or taken `metrics_listen`
//! stops it naming the setting; a good one serves `/metrics` with the
//! calls the process answered.

use std::{net::SocketAddr, process::Stdio, time::Duration};

use rapport_kit::testing::{self, Scrape};
use rapport_proto::v1::{GetCustomerRequest, profiles_service_client::ProfilesServiceClient};
use tokio::process::{Child, Command};

/// `rapport-profiles` on a fresh database and a free gRPC port, with
/// `metrics_listen` set to `metrics`.
async fn start(metrics: &str) -> (Child, SocketAddr) {
    let grpc = SocketAddr::from(([127, 0, 0, 1], testing::free_port()));
    let child = Command::new(env!("CARGO_BIN_EXE_rapport-profiles"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RAPPORT_LISTEN", grpc.to_string())
        .env("DATABASE_URL", testing::fresh_postgres().await)
        .env("RAPPORT_INTERNAL_TOKEN", "internal_metrics_endpoint_test")
        .env("RAPPORT_METRICS_LISTEN", metrics)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start rapport-profiles");
    (child, grpc)
}

/// Waits for the process to stop; its standard error.
async fn stopped(child: Child) -> String {
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the process stops")
        .expect("its output");
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_metrics_address_stops_the_service_naming_the_setting() {
    let (child, _) = start("metrics:9464").await;
    let stderr = stopped(child).await;
    assert!(stderr.contains("metrics_listen"), "{stderr}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (child, _) = start(&taken.local_addr().unwrap().to_string()).await;
    let stderr = stopped(child).await;
    assert!(stderr.contains("metrics_listen"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_serves_its_metrics() {
    let metrics = SocketAddr::from(([127, 0, 0, 1], testing::free_port()));
    let (mut child, grpc) = start(&metrics.to_string()).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
        .unwrap()
        .connect_lazy();
    let mut client = ProfilesServiceClient::new(channel);
    // Without credentials: refused, and counted under that code.
    let mut refused = 0;
    for _ in 0..300 {
        assert!(child.try_wait().unwrap().is_none(), "the service stopped");
        match client.get_customer(GetCustomerRequest::default()).await {
            Err(s) if s.code() == tonic::Code::Unauthenticated => {
                refused += 1;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(refused, 1);
    let scrape = Scrape::get(metrics).await;
    let labels = [
        ("service", "rapport.v1.ProfilesService"),
        ("method", "GetCustomer"),
        ("code", "UNAUTHENTICATED"),
    ];
    assert_eq!(
        scrape.value("rapport_rpc_duration_seconds_count", &labels),
        Some(1.0)
    );
    child.kill().await.ok();
}
