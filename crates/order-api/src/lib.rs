//! The Order Service's binary crate: HTTP API (actix-web), authentication, configuration,
//! the wiring of adapters into use cases, and the command line.
//!
//! Handlers only translate: HTTP in, a use case of `order-app`, HTTP out. Every error
//! becomes an answer in one place, [`error::ApiError`].

// No request path may panic: what an `expect` would assume, the types carry.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::unreachable)]

mod admission;
pub mod auth;
pub mod carrier_signature;
mod command;
pub mod config;
mod cors;
pub mod error;
pub mod hosts;
mod idempotency;
mod instrumented;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod outbox_admin;
pub mod personal_data;
pub mod query;
pub mod reconcile;
pub mod reply;
pub mod representation;
mod routes;
mod span_export;
pub mod state;
pub mod telemetry;
pub mod workers;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::middleware::{from_fn, Condition, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpRequest, HttpServer};
use order_app::{OrderService, OutboxRelay, Ports, RelaySettings, Settings};
use order_domain::order::Deadlines;
use order_eventbridge::{EventBridgePublisher, LogPublisher};
use order_peers::{GuardedWallet, HttpListings, HttpWallet};
use order_ports::{EventPublisher, SystemClock, UuidV7Ids};
use order_postgres::{build_pool, IdempotencyKeys, Liveness, PgStore, PoolConfig, WorkerRuns};
use utoipa_actix_web::AppExt;

use crate::auth::{Authenticator, TokenRules};
use crate::config::Config;
use crate::hosts::Hosts;
use crate::instrumented::{MeasuredListings, MeasuredStore, MeasuredWallet};
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::workers::{WorkerContext, WorkerSettings, Workers};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Migration(#[from] order_postgres::MigrationError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// The service, wired: the request handlers' state and what the workers need.
pub struct Application {
    pub state: web::Data<AppState>,
    pub workers: WorkerContext,
    pub worker_settings: WorkerSettings,
}

impl Application {
    /// Wires the adapters of `config` into the use cases. Connects to nothing yet: the
    /// pool opens connections on first use.
    pub async fn build(config: &Config) -> Result<Application, StartError> {
        let setup = |e: &dyn std::fmt::Display| StartError::Setup(e.to_string());
        // A span per statement only where spans are exported.
        let trace_statements = config.otlp.is_some();
        let mut pool_config = PoolConfig::new(config.database_url.clone());
        pool_config.max_size = config.db_pool_size;
        pool_config.trace_statements = trace_statements;
        let pool = build_pool(&pool_config).map_err(|e| setup(&e))?;
        let mut store = PgStore::new(pool.clone());
        if let Some(url) = &config.database_read_url {
            let mut replica = PoolConfig::new(url.clone());
            replica.max_size = config.db_pool_size;
            replica.trace_statements = trace_statements;
            store = store.with_read_replica(build_pool(&replica).map_err(|e| setup(&e))?);
        }
        let clock = Arc::new(SystemClock);
        let wallet = HttpWallet::new(config.wallet.clone())
            .map_err(|e| setup(&format!("WALLET_URL: {e}")))?;
        let listings = HttpListings::new(config.listing.clone())
            .map_err(|e| setup(&format!("LISTING_URL: {e}")))?;
        let metrics = Arc::new(Metrics::new());
        let wallet = Arc::new(GuardedWallet::new(
            Arc::new(wallet),
            clock.clone(),
            config.wallet_guard,
        ));
        let ports = Ports {
            store: Arc::new(MeasuredStore {
                inner: Arc::new(store.clone()),
                metrics: metrics.clone(),
            }),
            wallet: Arc::new(MeasuredWallet {
                inner: wallet.clone(),
                metrics: metrics.clone(),
            }),
            listings: Arc::new(MeasuredListings {
                inner: Arc::new(listings),
                metrics: metrics.clone(),
            }),
            clock: clock.clone(),
            ids: Arc::new(UuidV7Ids),
        };
        // The configuration bounded every window, so each fits a TimeDelta.
        let window = |duration: std::time::Duration| {
            chrono::TimeDelta::from_std(duration).map_err(|e| setup(&e))
        };
        let settings = Settings {
            fee_rate: config.fee_rate,
            deadlines: Deadlines {
                payment_window: window(config.payment_window)?,
                ship_within: window(config.ship_within)?,
                dispute_response_window: window(config.dispute_response_window)?,
                auto_complete_after: window(config.auto_complete_after)?,
                auto_complete_after_delivery: window(config.auto_complete_after_delivery)?,
            },
            resume_after: window(config.payment_resume_after)?,
        };
        if config.jwt == config::JwtKey::Unset && config.jwt_jwks_url.is_none() {
            tracing::warn!(
                "none of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS_URL is set: no user token will be accepted"
            );
        }
        let publisher: Arc<dyn EventPublisher> = match &config.event_bus_name {
            Some(bus) => Arc::new(
                EventBridgePublisher::from_env(
                    bus.clone(),
                    config.event_source.clone(),
                    config.aws_endpoint_url.clone(),
                )
                .await,
            ),
            None => {
                tracing::info!("EVENT_BUS_NAME is not set: events are written to the log");
                Arc::new(LogPublisher)
            }
        };
        let relay_settings = RelaySettings {
            max_attempts: config.outbox_max_attempts,
            backoff: config.outbox_retry_backoff,
            max_probe_interval: config.outbox_max_probe_interval,
            ..RelaySettings::default()
        };
        let relay = OutboxRelay::new(
            Arc::new(store.clone()),
            publisher,
            clock.clone(),
            relay_settings,
        );
        let service = OrderService::new(ports, settings);
        let runs = WorkerRuns::new(pool.clone());
        let idempotency = IdempotencyKeys::new(pool)
            .signed_by(Arc::new(Liveness::start(config.database_url.clone())));
        let state = web::Data::new(AppState {
            service: service.clone(),
            auth: Authenticator::new(
                TokenRules {
                    key: &config.jwt,
                    jwks: config
                        .jwt_jwks_url
                        .as_deref()
                        .map(|url| (url, config.jwt_jwks_refetch_interval)),
                    audience: config.jwt_audience.as_deref(),
                    issuer: config.jwt_issuer.as_deref(),
                    max_age: config.jwt_max_age,
                },
                &config.internal_service_tokens,
            )
            .map_err(|e| setup(&e))?,
            idempotency: idempotency.clone(),
            store,
            clock: clock.clone(),
            metrics: metrics.clone(),
            wallet_guard: wallet,
            cors_allowed_origins: config.cors_allowed_origins.clone(),
            hosts: Hosts::new(config.hosts.clone()),
            carrier_secret: config.carrier_webhook_secret.clone(),
        });
        state.auth.prefetch().await;
        Ok(Application {
            state,
            workers: WorkerContext {
                service,
                relay,
                idempotency,
                clock,
                metrics,
                runs,
            },
            worker_settings: WorkerSettings {
                outbox_poll_interval: config.outbox_poll_interval,
                auto_complete_interval: config.auto_complete_interval,
                auto_complete_batch: 50,
                deadline_interval: config.deadline_interval,
                deadline_batch: 100,
                key_expiry_interval: std::time::Duration::from_secs(3600),
                reconcile_interval: config.reconcile_interval,
                erasure_interval: config.erasure_interval,
                personal_data_retention: config.personal_data_retention,
                erasure_batch: order_app::ERASURE_BATCH,
            },
        })
    }

    pub fn spawn_workers(&self) -> Workers {
        Workers::spawn(self.workers.clone(), self.worker_settings)
    }
}

/// Serves the API on `listener` until the returned server is stopped (SIGTERM/SIGINT
/// stop it gracefully: in-flight requests finish first).
pub fn serve(
    listener: TcpListener,
    state: web::Data<AppState>,
) -> std::io::Result<actix_web::dev::Server> {
    routes::check().map_err(std::io::Error::other)?;
    let routes = routes::methods::route_options(openapi::document());
    let server = HttpServer::new(move || {
        let app = App::new()
            .app_data(state.clone())
            .wrap(from_fn(idempotency::keyed))
            .wrap(from_fn(auth::authenticate))
            .wrap(from_fn(routes::methods::head_as_get))
            .wrap(NormalizePath::new(TrailingSlash::Always))
            .wrap(from_fn(admission::admit))
            .wrap(from_fn(telemetry::request_id))
            .wrap(Condition::new(
                !state.cors_allowed_origins.is_empty(),
                cors::policy(&state.cors_allowed_origins),
            ))
            .default_service(web::to(routes::not_found))
            .into_utoipa_app()
            .configure(routes::configure)
            .into_app();
        // Each route above answers only its own method; OPTIONS and every other method on
        // a documented path fall through to here.
        routes.iter().fold(app, |app, (path, options)| {
            let allow = options.allow().to_owned();
            let options = options.clone();
            app.service(
                web::resource(path.as_str())
                    .route(web::method(actix_web::http::Method::OPTIONS).to(move || {
                        let answer = routes::methods::options(&options);
                        async move { answer }
                    }))
                    .route(web::route().to(move |req: HttpRequest| {
                        routes::method_not_allowed(req, allow.clone())
                    })),
            )
        })
    })
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    Ok(server)
}
