//! What orchestrators and monitoring read: liveness, readiness and metrics.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use order_domain::order::Sweep;
use order_ports::{OrderStore, StoreError};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::metrics::SweepLabels;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(live).service(ready).service(metrics);
}

/// Check liveness.
///
/// Anyone: 200 while the process serves HTTP. For an orchestrator's liveness probe.
#[utoipa::path(operation_id = "checkLiveness", tag = "operations", responses((status = 200, description = "Alive")))]
#[get("/healthz/")]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Check readiness.
///
/// Anyone: 200 while the database answers and user tokens can be verified, 503 with
/// `Retry-After` otherwise (a service whose only keys come from `JWT_JWKS_URL` is not ready
/// until it has fetched one). For taking a replica out of a load balancer.
#[utoipa::path(
    operation_id = "checkReadiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready"),
        (status = 503, description = "The database is unreachable, or no key to verify user tokens with has been fetched"),
    )
)]
#[get("/readyz/")]
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if !state.auth.has_signing_keys().await {
        tracing::warn!("not ready: no signing keys (JWT_JWKS_URL never answered with one)");
        return HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "5"))
            .json(json!({"status": "unavailable", "signing_keys": "none"}));
    }
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            HttpResponse::ServiceUnavailable()
                .insert_header((actix_web::http::header::RETRY_AFTER, "5"))
                .json(json!({"status": "unavailable", "database": "unreachable"}))
        }
    }
}

/// Read the metrics.
///
/// Anyone who can reach it: the Prometheus text exposition of requests, peers, the outbox,
/// the workers and the pool.
#[utoipa::path(
    operation_id = "getMetrics",
    tag = "operations",
    responses((status = 200, description = "Metrics in the Prometheus text format", content_type = "text/plain"))
)]
#[get("/metrics/")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let metrics = &state.metrics;
    match order_ports::Outbox::stats(&state.store, state.clock.now()).await {
        Ok(stats) => {
            metrics.outbox_pending.set(stats.pending as i64);
            metrics.outbox_parked.set(stats.parked as i64);
            metrics.outbox_held_back.set(stats.held_back as i64);
            metrics.outbox_lag_seconds.set(stats.lag_seconds);
        }
        Err(error) => tracing::warn!(%error, "outbox statistics unavailable"),
    }
    match order_ports::OrderStore::intent_stats(&state.store).await {
        Ok(stats) => {
            metrics.intents_pending.set(stats.pending as i64);
            let age = stats.oldest.map_or(0.0, |oldest| {
                (state.clock.now() - oldest).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics.intent_oldest_seconds.set(age);
        }
        Err(error) => tracing::warn!(%error, "escrow intent statistics unavailable"),
    }
    sweep_backlog(&state).await;
    let guard = state.wallet_guard.snapshot();
    metrics.wallet_breaker_state.set(guard.state.code());
    metrics.wallet_calls_in_flight.set(guard.in_flight as i64);
    let pool = state.store.pool().status();
    metrics.db_pool_connections.set(pool.size as i64);
    metrics.db_pool_idle.set(pool.available as i64);
    metrics.db_pool_waiting.set(pool.waiting as i64);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}

/// `deadline_overdue_seconds` of each sweep: how long its longest overdue order (or
/// dispute) has waited past its deadline. A worker keeping up holds it under its interval;
/// one that stopped lets it grow without bound, which is what the alert watches.
async fn sweep_backlog(state: &AppState) {
    let now = state.clock.now();
    let record = |sweep: &'static str, due: Result<Option<DateTime<Utc>>, StoreError>| match due {
        Ok(due) => {
            let behind = due.map_or(0.0, |at| {
                (now - at).num_milliseconds().max(0) as f64 / 1000.0
            });
            state
                .metrics
                .deadline_overdue_seconds
                .get_or_create(&SweepLabels { sweep })
                .set(behind);
        }
        Err(error) => tracing::warn!(%error, sweep, "sweep backlog unavailable"),
    };
    for sweep in Sweep::ALL {
        record(sweep.as_str(), state.store.oldest_due(sweep, now).await);
    }
    record(
        "unanswered_dispute",
        state.store.oldest_unanswered_dispute(now).await,
    );
}
