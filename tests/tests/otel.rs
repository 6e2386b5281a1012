//! Span and metric export: with an OTLP endpoint configured, one trace
//! follows a request from ingestion into profiles, and the RPC latency
//! histogram counts it, both received by a real OTLP/gRPC collector. (Its
//! own test binary: the tracing subscriber and meter provider are
//! process-wide.)

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use opentelemetry_proto::tonic::{
    collector::{
        metrics::v1::{
            ExportMetricsServiceRequest, ExportMetricsServiceResponse,
            metrics_service_server::{MetricsService, MetricsServiceServer},
        },
        trace::v1::{
            ExportTraceServiceRequest, ExportTraceServiceResponse,
            trace_service_server::{TraceService, TraceServiceServer},
        },
    },
    common::v1::{KeyValue, any_value::Value},
    metrics::v1::{Metric, metric::Data},
    trace::v1::Span,
};
use rapport_kit::{
    internal::BearerAuth,
    testing::{self, Backend, TestServer, ok},
};
use rapport_proto::v1::{
    ExternalIdentity, IngestTransactionsRequest, Transaction, TransactionKind,
    ingestion_service_client::IngestionServiceClient, transaction::Amount,
};

#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Span>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().unwrap();
        for rs in request.into_inner().resource_spans {
            for ss in rs.scope_spans {
                spans.extend(ss.spans);
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[derive(Clone, Default)]
struct MetricCollector(Arc<Mutex<Vec<Metric>>>);

#[tonic::async_trait]
impl MetricsService for MetricCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let mut metrics = self.0.lock().unwrap();
        for rm in request.into_inner().resource_metrics {
            for sm in rm.scope_metrics {
                metrics.extend(sm.metrics);
            }
        }
        Ok(tonic::Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            _ => None,
        }
    })
}

fn method(span: &Span) -> Option<String> {
    attribute(&span.attributes, "method")
}

/// Calls of `method` answered OK in the exported latency histograms.
fn exported_calls(metrics: &[Metric], method: &str) -> u64 {
    metrics
        .iter()
        .filter(|m| m.name == "rapport_rpc_duration_seconds")
        .filter_map(|m| match &m.data {
            Some(Data::Histogram(h)) => Some(&h.data_points),
            _ => None,
        })
        .flatten()
        .filter(|p| {
            attribute(&p.attributes, "method").as_deref() == Some(method)
                && attribute(&p.attributes, "code").as_deref() == Some("OK")
        })
        .map(|p| p.count)
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_spans_ingestion_and_profiles() {
    let collector = Collector::default();
    let metrics = MetricCollector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(collector.clone()))
        .add_service(MetricsServiceServer::new(metrics.clone()))
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener));
    let collector_task = tokio::spawn(server);

    let mut config = testing::config(Backend::Sqlite).await;
    // Request spans are at info level; everything else stays quiet.
    rapport_kit::telemetry::init_full(
        config.log_format,
        "warn,rapport_kit::telemetry=info",
        Some(&endpoint),
    );
    config.otlp_endpoint = Some(endpoint);
    let profiles = TestServer::start(config.clone(), |app, server, _| {
        rapport_profiles::add_to(server, app.db(rapport_profiles::SCHEMA)?);
        Ok(())
    })
    .await;
    // Same store directory: the tenant registry is shared, as on Postgres.
    let ingestion =
        rapport_tests::ingestion_alone(config, profiles.url(), Duration::from_secs(10)).await;
    let (_, key) = profiles.tenant("acme", "EUR").await;

    let mut client = IngestionServiceClient::with_interceptor(
        ingestion.channel(),
        BearerAuth::new(&key).unwrap(),
    );
    let result = ok(client.ingest_transactions(IngestTransactionsRequest {
        transactions: vec![Transaction {
            source: "pos".into(),
            external_id: "R-1".into(),
            customer: Some(ExternalIdentity {
                source: String::new(),
                external_id: "card-9".into(),
            }),
            kind: TransactionKind::Purchase as i32,
            occurred_at: Some(rapport_kit::domain::chrono_to_timestamp(chrono::Utc::now())),
            currency_code: "EUR".into(),
            amount: Some(Amount::AmountMinor(1_250)),
            ..Default::default()
        }],
    }))
    .await;
    assert_eq!(
        (result.accepted, result.customers_created),
        (1, 1),
        "{result:?}"
    );

    let mut found = None;
    for _ in 0..100 {
        rapport_kit::telemetry::flush();
        let spans = collector.0.lock().unwrap().clone();
        let ingest = spans.iter().find(|s| {
            method(s).as_deref() == Some("/rapport.v1.IngestionService/IngestTransactions")
        });
        let resolve = spans.iter().find(|s| {
            method(s).as_deref() == Some("/rapport.v1.ProfilesService/ResolveIdentities")
        });
        if let (Some(i), Some(r)) = (ingest, resolve) {
            found = Some((i.clone(), r.clone()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (ingest, resolve) = found.expect("both server spans exported");
    assert_eq!(
        ingest.trace_id, resolve.trace_id,
        "one trace across both services"
    );
    assert_eq!(
        resolve.parent_span_id, ingest.span_id,
        "profiles' span is a child of ingestion's"
    );

    // The flush sends the metrics too (cumulative: the latest export holds
    // every call so far).
    let mut calls = 0;
    for _ in 0..100 {
        rapport_kit::telemetry::flush();
        calls = exported_calls(&metrics.0.lock().unwrap(), "IngestTransactions");
        if calls > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(calls, 1, "the call counted in the exported histogram");
    ingestion.stop().await;
    profiles.stop().await;
    collector_task.abort();
}
