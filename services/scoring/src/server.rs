//! Assembling the service: its parts wired together once ([`add_to`]), and
//! the service run as its own process ([`serve`]).

use std::sync::Arc;

use anyhow::Context;
use rapport_cache::{MemoryCache, RedisCache, RedisTls, VersionedCache};
use rapport_kit::{
    Db,
    app::App,
    config::{Config, Role},
    server::{Server, db_check},
};
use rapport_proto::v1::{
    loyalty_service_server::LoyaltyServiceServer,
    notifications_service_client::NotificationsServiceClient,
    profiles_service_client::ProfilesServiceClient, reports_service_server::ReportsServiceServer,
    rules_service_server::RulesServiceServer,
    score_changes_service_server::ScoreChangesServiceServer,
    scoring_service_server::ScoringServiceServer,
};
use tonic::transport::Channel;

use crate::{
    MIGRATIONS, SCHEMA,
    dedupe::{Dedupe, DedupeRepo, ScoringConfig},
    feed::{Feed, FeedApi, FeedConfig, Subscriptions, subscriptions::SubscriptionRepo},
    figures::{Figures, FiguresRepo},
    grpc::{RulesApi, ScoringApi, ScoringRoutes},
    loyalty::{Loyalty, grpc::LoyaltyApi, store::PointsRepo},
    profiles::Profiles,
    refresh::Refresher,
    repo::{ScoreRepo, models::ModelRepo},
    reports::{Reports, ReportsConfig, grpc::ReportsApi, repo::ReportRepo},
    rules::Rules,
    scores::{Scores, cache::ScoreCache},
    value::{fits::Fitter, tenant_states::TenantStates},
    worker::{RefreshOptions, RulesOptions, Scoring, spawn_refresh, spawn_rules},
};

/// The peers this service calls: wallet estimates come from Profiles, rules
/// contact customers through notifications.
pub const PEERS: &[&str] = &["profiles", "notifications"];

/// Redis when `config.redis_url` is set (with a near cache of
/// `cache_memory_mb`, kept current through `{cache_prefix}:invalidations`),
/// else an in-process cache of that size. A `rediss://` URL trusts
/// `tls.ca_file` and presents `tls.client_cert_file` when they are set. A score with its read-time
/// measures takes a few KiB, so the default 8 MiB keeps the two thousand or
/// so hottest customers, well inside the service's memory budget.
pub async fn cache_from_config(config: &Config) -> anyhow::Result<Arc<dyn VersionedCache>> {
    let bytes = config.cache_memory_mb as usize * (1 << 20);
    Ok(match &config.redis_url {
        Some(url) => {
            let channel = format!("{}:invalidations", config.cache_prefix);
            let tls = RedisTls {
                ca: config.tls.ca_pem()?,
                client: config.tls.client_pem()?.map(|p| (p.cert, p.key)),
            };
            Arc::new(
                RedisCache::with_tls(url.expose(), &channel, bytes, &tls)
                    .await
                    .context("redis cache")?,
            )
        }
        None => Arc::new(MemoryCache::with_max_bytes(bytes.max(1 << 20))),
    })
}

/// Adds the service, RulesService and their health check (db_check) to
/// `server`, with the samplers of dead letters waiting and of the rules
/// queue. Cache keys start with `app.config.cache_prefix`; wallet
/// estimates are read from `profiles` with `app.internal` on every refresh
/// (FitModels and [`spawn_refresh`]); rules contact customers through
/// `notifications`.
pub fn add_to(
    server: &mut Server,
    app: &App,
    db: Db,
    cache: Arc<dyn VersionedCache>,
    profiles: ProfilesServiceClient<Channel>,
    notifications: NotificationsServiceClient<Channel>,
) -> Scoring {
    let scoring = parts(app, db, cache, profiles, notifications);
    let refresher = &scoring.refresher;
    let scores = &refresher.scores;
    let api = ScoringApi {
        scores: scores.clone(),
        fitter: refresher.fitter.clone(),
        refresher: refresher.clone(),
        reports: scoring.reports.clone(),
        figures: scoring.figures.clone(),
    };
    server.add_sampler(crate::metrics::dead_letter_sampler(scores.repo.clone()));
    server.add_sampler(crate::metrics::rules_queue_sampler(
        scoring.rules.evaluation.clone(),
    ));
    server.add_sampler(crate::metrics::subscriptions_sampler(
        scoring.subscriptions.repo.clone(),
    ));
    let health = || vec![db_check(scoring.db.clone(), SCHEMA, MIGRATIONS)];
    // The relay keeps its batches within this limit (see rapport_proto::limits);
    // every other scoring request is a few hundred bytes.
    let service = ScoringServiceServer::new(api)
        .max_decoding_message_size(rapport_proto::limits::APPLY_CHANGES_MAX_BYTES);
    let routes = ScoringRoutes::new(service, scores.clone());
    server
        .add_service(routes, health())
        .add_long("/rapport.v1.ScoringService/FitModels")
        .add_long("/rapport.v1.ScoringService/EvaluateModels");
    let rules_api = RulesApi {
        rules: scoring.rules.clone(),
    };
    let rules_service = RulesServiceServer::new(rules_api)
        .max_decoding_message_size(rapport_proto::limits::CONTROL_MAX_BYTES);
    server.add_service(rules_service, health());
    let feed = FeedApi {
        feed: scoring.feed.clone(),
        subscriptions: scoring.subscriptions.clone(),
    };
    server.add_service(ScoreChangesServiceServer::new(feed), health());
    let reports = ReportsApi {
        reports: scoring.reports.clone(),
    };
    let reports = ReportsServiceServer::new(reports)
        .max_decoding_message_size(rapport_proto::limits::CONTROL_MAX_BYTES);
    server.add_service(reports, health());
    let loyalty = LoyaltyApi {
        loyalty: scoring.loyalty.clone(),
    };
    let loyalty = LoyaltyServiceServer::new(loyalty)
        .max_decoding_message_size(rapport_proto::limits::CONTROL_MAX_BYTES);
    server.add_service(loyalty, health());
    scoring
}

/// The service's parts wired together, for [`add_to`] and for a process
/// that runs only the workers.
fn parts(
    app: &App,
    db: Db,
    cache: Arc<dyn VersionedCache>,
    profiles: ProfilesServiceClient<Channel>,
    notifications: NotificationsServiceClient<Channel>,
) -> Scoring {
    let models = ModelRepo::new(db.clone());
    let states = TenantStates::new(models.clone());
    // Whole-tenant reads go to the replica when one is configured; an
    // unusable replica URL was refused when the configuration loaded.
    let reader = app.read_db(SCHEMA, &db).unwrap_or_else(|e| {
        tracing::error!(error = %e, "database_read_url unusable; reading the primary");
        db.clone()
    });
    let feed_config = app.config.section::<FeedConfig>().unwrap_or_else(|e| {
        // `serve` refuses to start with it; an embedding that did not check
        // gets the defaults.
        tracing::error!(error = %e, "feed settings invalid; using the defaults");
        FeedConfig::default()
    });
    let profiles = Profiles {
        client: profiles,
        internal: app.internal.clone(),
    };
    let scoring_config = ScoringConfig::read(&app.config).unwrap_or_else(|e| {
        tracing::error!(error = %e, "scoring settings invalid; using the defaults");
        ScoringConfig::default()
    });
    let loyalty = Loyalty::new(PointsRepo::new(db.clone()), Some(profiles.clone()));
    let figures_repo = FiguresRepo::new(db.clone(), reader.clone());
    let scores = Scores {
        feed: feed_config.enabled,
        repo: ScoreRepo::with_reader(db.clone(), reader.clone()),
        cache: ScoreCache::new(cache, &app.config.cache_prefix),
        states: states.clone(),
        loyalty: loyalty.clone(),
        window: scoring_config.window(),
    };
    let figures = Figures::new(
        figures_repo,
        scores.clone(),
        models.clone(),
        scoring_config.clone(),
    );
    let fitter = Fitter { models, states };
    let reports_config = app.config.section::<ReportsConfig>().unwrap_or_else(|e| {
        tracing::error!(error = %e, "reports settings invalid; using the defaults");
        ReportsConfig::default()
    });
    let reports = Reports::new(
        ReportRepo::new(db.clone()),
        scores.clone(),
        profiles.clone(),
        app.auth.clone(),
        reports_config,
    );
    let refresher = Refresher {
        scores: scores.clone(),
        fitter,
        profiles: profiles.clone(),
    };
    let (poll, enabled) = (
        std::time::Duration::from_millis(feed_config.poll_interval_ms),
        feed_config.enabled,
    );
    let feed = Feed::new(db.clone(), feed_config, app.shutdown.clone());
    let rules = Rules::new(
        db.clone(),
        reader,
        scores,
        profiles,
        notifications,
        app.auth.clone(),
        scoring_config.dry_run_limit,
    );
    let subscriptions = Subscriptions::new(
        feed.repo.clone(),
        SubscriptionRepo::new(db.clone()),
        rules.clone(),
        poll,
        enabled,
    );
    Scoring {
        refresher,
        rules,
        feed,
        subscriptions,
        reports,
        loyalty,
        dedupe: Dedupe {
            repo: DedupeRepo::new(db.clone()),
            config: scoring_config,
        },
        figures,
        auth: app.auth.clone(),
        db,
    }
}

/// Runs the service, its background refresh and its rules worker as their
/// own process until SIGTERM or SIGINT, then drains: what the
/// `rapport-scoring` binary and `rapport serve scoring` do.
pub async fn serve(app: App) -> anyhow::Result<()> {
    let roles = app.roles("scoring", &[Role::Serve, Role::Refresh, Role::Rules])?;
    app.require_peers("scoring", PEERS)?;
    app.config.section::<FeedConfig>()?;
    app.config.section::<ReportsConfig>()?;
    ScoringConfig::read(&app.config)?;
    let db = app.db(SCHEMA).context("opening the scoring database")?;
    let cache = cache_from_config(&app.config).await?;
    let peers = rapport_kit::peers::PeerClients::new(&app.config);
    let (profiles, notifications) = (peers.profiles()?, peers.notifications()?);
    let mut server = app.server_for(&roles, db_check(db.clone(), SCHEMA, MIGRATIONS));
    let scoring = if roles.has(Role::Serve) {
        add_to(
            &mut server,
            &app,
            db.clone(),
            cache,
            profiles,
            notifications,
        )
    } else {
        parts(&app, db.clone(), cache, profiles, notifications)
    };
    let refresh = roles
        .has(Role::Refresh)
        .then(|| spawn_refresh(&scoring, RefreshOptions::default(), app.shutdown.clone()));
    let rules = roles.has(Role::Rules).then(|| {
        if !roles.has(Role::Serve) {
            // The rules pod reports the queue it works off, and the
            // subscriptions it delivers.
            server.add_sampler(crate::metrics::rules_queue_sampler(
                scoring.rules.evaluation.clone(),
            ));
            server.add_sampler(crate::metrics::subscriptions_sampler(
                scoring.subscriptions.repo.clone(),
            ));
        }
        spawn_rules(&scoring, RulesOptions::default(), app.shutdown.clone())
    });
    app.shutdown.on_signals();
    let (listener, addr) = app.bind().await?;
    tracing::info!(%addr, "scoring service starting");
    server.serve(listener, app.shutdown.clone()).await?;
    for worker in [refresh, rules].into_iter().flatten() {
        let _ = worker.await;
    }
    db.close().await;
    app.tenants_db.close().await;
    Ok(())
}
