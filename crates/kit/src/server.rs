//! The one function that assembles a Rapport gRPC server: tower layers,
//! health, reflection, graceful shutdown on a pre-bound listener.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use futures::{FutureExt as _, future::BoxFuture};
use tokio::{net::TcpListener, sync::Semaphore};
use tonic::{Status, server::NamedService, service::RoutesBuilder, transport::server::TcpIncoming};
use tonic_health::{ServingStatus, server::HealthReporter};
use tower::Service;

use crate::{
    auth::Authenticator,
    config::Config,
    db::{Db, Migrations},
    metrics::rpc::RpcMetrics,
    shutdown::Shutdown,
    telemetry::Trace,
};

pub mod budget;
pub mod deadline;
pub mod json;
pub mod middleware;
pub mod pages;
pub mod tls;

use budget::InflightBytes;
use deadline::Deadline;
use middleware::{Answer, GrpcInner, Middleware, MiddlewareLayer};

/// How often dependencies are checked for health.
const HEALTH_INTERVAL: Duration = Duration::from_secs(5);

/// A dependency check: `Ok` while the dependency answers.
pub type HealthCheck = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// A check that applies `migrations` to `db` on its first success and pings
/// afterwards, so a service can start before its database is up.
pub fn db_check(db: Db, schema: &'static str, migrations: Migrations) -> HealthCheck {
    let migrated = Arc::new(tokio::sync::OnceCell::<()>::new());
    Arc::new(move || {
        let (db, migrated) = (db.clone(), migrated.clone());
        Box::pin(async move {
            migrated
                .get_or_try_init(|| async {
                    db.migrate(schema, &migrations)
                        .await
                        .map_err(|e| e.to_string())?;
                    tracing::info!(schema, backend = db.backend(), "schema migrated");
                    Ok::<(), String>(())
                })
                .await?;
            db.ping().await.map_err(|e| e.to_string())
        })
    })
}

/// Reads figures from a database into gauges: run every
/// [`Config::metrics_sample`] while anything reads the metrics, never per
/// scrape.
pub type Sampler = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// Collects services and their health checks, then serves them.
pub struct Server {
    config: Config,
    auth: Authenticator,
    routes: RoutesBuilder,
    names: Vec<&'static str>,
    checks: Vec<(&'static str, HealthCheck)>,
    reporter: HealthReporter,
    /// Client-streaming methods, served without the whole-request timeout.
    streams: Vec<&'static str>,
    /// Whole-tenant methods, served with the long timeout.
    long: Vec<&'static str>,
    samplers: Vec<Sampler>,
    /// Static pages served under `/ui/` (the dashboard), if any.
    pages: Option<pages::Pages>,
}

impl Server {
    /// A server that authenticates with `auth`.
    pub fn new(config: &Config, auth: Authenticator) -> Self {
        let (reporter, health) = tonic_health::server::health_reporter();
        let mut routes = RoutesBuilder::default();
        routes.add_service(health);
        Server {
            config: config.clone(),
            auth,
            routes,
            names: Vec::new(),
            checks: Vec::new(),
            reporter,
            streams: Vec::new(),
            long: Vec::new(),
            samplers: Vec::new(),
            pages: None,
        }
    }

    /// The configuration the server was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Serves the client-streaming method at `path`
    /// (`/rapport.v1.IngestionService/StreamTransactions`) without the
    /// whole-request timeout; its handler bounds the wait for each message
    /// with [`Config::stream_idle_timeout`] instead.
    pub fn add_stream(&mut self, path: &'static str) -> &mut Self {
        self.streams.push(path);
        self
    }

    /// Serves the method at `path` (`/rapport.v1.ScoringService/FitModels`),
    /// whose time grows with a whole tenant, with
    /// [`Config::long_request_timeout`] instead of the request timeout.
    pub fn add_long(&mut self, path: &'static str) -> &mut Self {
        self.long.push(path);
        self
    }

    /// Adds a service; it reports SERVING once every one of `checks` passes.
    pub fn add_service<S>(&mut self, service: S, checks: Vec<HealthCheck>) -> &mut Self
    where
        S: Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.routes.add_service(service);
        self.names.push(S::NAME);
        for c in checks {
            self.checks.push((S::NAME, c));
        }
        self
    }

    /// Adds a check every service of this server depends on (the tenant
    /// registry, for one).
    pub fn add_shared_check(&mut self, check: HealthCheck) -> &mut Self {
        self.checks.push(("", check));
        self
    }

    /// Adds a sampler of gauges, run while the server serves (only when
    /// [`Config::metrics_read`]).
    pub fn add_sampler(&mut self, sampler: Sampler) -> &mut Self {
        self.samplers.push(sampler);
        self
    }

    /// Serves `pages` under `/ui/` (the web dashboard) on this port, to
    /// anyone: the files hold no data, the pages call the API with a key.
    pub fn add_pages(&mut self, pages: pages::Pages) -> &mut Self {
        self.pages = Some(pages);
        self
    }

    /// The health reporter, for services that report more than their checks.
    pub fn health_reporter(&self) -> HealthReporter {
        self.reporter.clone()
    }

    /// Serves on `listener` until `shutdown` fires, then drains in-flight
    /// requests for at most the configured grace period.
    pub async fn serve(self, listener: TcpListener, shutdown: Shutdown) -> anyhow::Result<()> {
        let Server {
            config,
            auth,
            mut routes,
            names,
            checks,
            reporter,
            streams,
            long,
            samplers,
            pages,
        } = self;
        // Certificate files that do not load stop the server here, before
        // it reports anything.
        let tls = tls::acceptor(&config.tls)?;
        let plain_health = match config.tls.health_listen {
            Some(addr) if tls.is_some() => Some(TcpListener::bind(addr).await?),
            _ => None,
        };
        // A metrics port that cannot be bound stops the server too.
        let metrics = match config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding metrics_listen {addr}"))?,
            ),
            None => None,
        };
        for name in &names {
            reporter
                .set_service_status(*name, ServingStatus::NotServing)
                .await;
        }
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        let monitor = tokio::spawn(monitor_health(
            reporter.clone(),
            names.clone(),
            checks,
            shutdown.clone(),
        ));

        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(rapport_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(rapport_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        routes
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        // Outermost first. Tracing and the RPC metrics wrap everything so
        // shed and refused calls are logged and counted too; shedding comes before auth so an overloaded server
        // does no credential lookups; auth sits next to the handlers so
        // nothing reaches them without a tenant. The deadline covers all that
        // follows it, and a request it ends gives back its permit and bytes.
        // The byte budget comes after the count: a request shed by count
        // reserves nothing.
        // JSON over HTTP goes first: a JSON call (or each batch of a CSV
        // import) becomes the gRPC call it stands for and passes through
        // everything below like any other.
        // Parsing its JSON is charged to the same byte budget.
        // The dashboard's static files come before all of it: they are not
        // calls, need no key and cost next to nothing.
        let budget = InflightBytes::new(config.inflight_bytes);
        let layers = tower::ServiceBuilder::new()
            .layer(MiddlewareLayer::new(pages::StaticPages::new("/ui", pages)))
            .layer(
                json::JsonLayer::new(config.max_message_bytes, budget.clone())
                    .with_idle_timeout(config.stream_idle_timeout()),
            )
            // grpc-web (browsers) likewise becomes plain gRPC here.
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(MiddlewareLayer::new(Trace))
            .layer(MiddlewareLayer::new(RpcMetrics::new()))
            .layer(MiddlewareLayer::new(Deadline::new(
                config.request_timeout(),
                streams,
                config.long_request_timeout(),
                long,
            )))
            .layer(MiddlewareLayer::new(LoadShed::new(
                config.max_concurrent_requests,
            )))
            .layer(MiddlewareLayer::new(budget))
            .layer(MiddlewareLayer::new(auth));

        let addr = listener.local_addr()?;
        if let Some(health) = plain_health {
            tracing::info!(addr = %health.local_addr()?, "serving health in plaintext");
            tokio::spawn(tls::plain_health(
                health,
                reporter.clone(),
                shutdown.clone(),
            ));
        }
        let sampling = (config.metrics_read() && !samplers.is_empty()).then(|| {
            crate::metrics::spawn_sampler(config.metrics_sample(), shutdown.clone(), move || {
                futures::future::join_all(samplers.iter().map(|s| s())).map(|_| ())
            })
        });
        if let Some(metrics) = metrics {
            tracing::info!(addr = %metrics.local_addr()?, "serving metrics at /metrics");
            tokio::spawn(crate::metrics::endpoint::serve(metrics, shutdown.clone()));
        }
        tracing::info!(%addr, services = ?names, tls = tls.is_some(), "serving");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        // The builder's own `tcp_nodelay` only reaches listeners tonic binds
        // itself; ours is pre-bound, so every accepted socket gets it here.
        // Without it a response larger than one segment waits for the
        // client's delayed ACK (about 40 ms).
        // HTTP/1.1 too, for JSON callers such as curl or an ERP's HTTP client.
        let server = tonic::transport::Server::builder()
            .accept_http1(true)
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .layer(layers)
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(tls::incoming(listener, tls), async {
                let _ = stop_rx.await;
            });
        let mut server = std::pin::pin!(server);
        tokio::select! {
            res = &mut server => { res?; }
            _ = shutdown.wait() => {
                for name in &names {
                    reporter.set_service_status(*name, ServingStatus::NotServing).await;
                }
                reporter.set_service_status("", ServingStatus::NotServing).await;
                let _ = stop_tx.send(());
                match tokio::time::timeout(config.shutdown_grace(), &mut server).await {
                    Ok(res) => res?,
                    Err(_) => tracing::warn!("grace period over; dropping in-flight requests"),
                }
            }
        }
        monitor.abort();
        if let Some(sampling) = sampling {
            sampling.abort();
        }
        tracing::info!(%addr, "stopped");
        crate::telemetry::flush();
        Ok(())
    }
}

/// The connections `listener` accepts, each with `TCP_NODELAY` set.
pub fn accepting(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

async fn monitor_health(
    reporter: HealthReporter,
    names: Vec<&'static str>,
    checks: Vec<(&'static str, HealthCheck)>,
    shutdown: Shutdown,
) {
    let mut last: Option<bool> = None;
    loop {
        let mut failing: Vec<(&'static str, String)> = Vec::new();
        for (name, check) in &checks {
            if let Err(e) = check().await {
                failing.push((name, e));
            }
        }
        for name in &names {
            let ok = !failing.iter().any(|(n, _)| n == name || n.is_empty());
            let status = if ok {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            reporter.set_service_status(*name, status).await;
        }
        let all_ok = failing.is_empty();
        reporter
            .set_service_status(
                "",
                if all_ok {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                },
            )
            .await;
        if last != Some(all_ok) {
            if all_ok {
                tracing::info!("dependencies answer; serving");
            } else {
                for (name, error) in &failing {
                    tracing::warn!(service = name, error = %error, "dependency check failed; not serving");
                }
            }
            last = Some(all_ok);
        }
        let pause = if all_ok {
            HEALTH_INTERVAL
        } else {
            Duration::from_millis(500)
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.wait() => return,
        }
    }
}

/// Middleware bounding concurrent requests; past the bound a request is
/// refused at once with RESOURCE_EXHAUSTED instead of queueing.
#[derive(Clone, Debug)]
pub struct LoadShed {
    permits: Arc<Semaphore>,
}

impl LoadShed {
    /// Allows `max` requests in flight.
    pub fn new(max: usize) -> Self {
        LoadShed {
            permits: Arc::new(Semaphore::new(max)),
        }
    }
}

impl<S: GrpcInner<B>, B: Send + 'static> Middleware<S, B> for LoadShed {
    fn call(&self, mut inner: S, req: http::Request<B>) -> Answer<S, B> {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => Box::pin(async move {
                let res = inner.call(req).await;
                drop(permit);
                res
            }),
            Err(_) => {
                let status = Status::resource_exhausted("server overloaded; retry with back-off");
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}
