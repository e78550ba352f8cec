//! `/metrics` in Prometheus text: what the service did (counters and histograms updated as
//! it works) and where it stands (gauges read from the database and the pool at scrape).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Every label of a request comes from a closed set, so that no caller can add series:
/// see [`method_label`] and [`UNMATCHED`].
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route's pattern (`/api/v1/orders/{id}/`), or [`UNMATCHED`].
    pub route: String,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: &'static str,
}

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// A request method as a label: the standard methods by name, anything else `OTHER`.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "OTHER",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PeerLabels {
    pub peer: &'static str,
    pub operation: &'static str,
    /// ok, declined, not_found, unavailable, rejected or shed (refused by the breaker or
    /// the concurrency cap without reaching the peer).
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeadlineLabels {
    /// payment_expired, ship_overdue or dispute_escalated.
    pub effect: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SweepLabels {
    /// unpaid_auction, late_shipment, due_completion or unanswered_dispute.
    pub sweep: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerLabels {
    /// A [`Sweeper`]'s label.
    pub worker: &'static str,
}

/// The workers whose sweeps pass over a row the domain refuses, and count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sweeper {
    Deadlines,
    AutoCompletion,
    Intents,
    Erasure,
}

impl Sweeper {
    const ALL: [Sweeper; 4] = [
        Sweeper::Deadlines,
        Sweeper::AutoCompletion,
        Sweeper::Intents,
        Sweeper::Erasure,
    ];

    /// The `worker` label of its count.
    fn label(self) -> &'static str {
        match self {
            Sweeper::Deadlines => "deadlines",
            Sweeper::AutoCompletion => "auto_completion",
            Sweeper::Intents => "intents",
            Sweeper::Erasure => "erasure",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DriftLabels {
    /// escrow_unknown, state_mismatch, amount_mismatch or split_mismatch.
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TransitionLabels {
    /// The event the transition raised, e.g. `order.shipped`.
    pub event: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub peer_requests: Family<PeerLabels, Counter>,
    pub peer_duration: Family<PeerLabels, Histogram>,
    pub order_transitions: Family<TransitionLabels, Counter>,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub outbox_published: Counter,
    pub outbox_failures: Counter,
    pub outbox_parked_events: Counter,
    pub auto_completed: Counter,
    pub auto_complete_failures: Counter,
    pub outbox_pending: Gauge,
    pub outbox_parked: Gauge,
    pub outbox_held_back: Gauge,
    pub outbox_bus_available: Gauge,
    pub outbox_lag_seconds: Gauge<f64, AtomicU64>,
    pub db_pool_connections: Gauge,
    pub db_pool_idle: Gauge,
    pub db_pool_waiting: Gauge,
    pub deadline_effects: Family<DeadlineLabels, Counter>,
    pub deadline_overdue_seconds: Family<SweepLabels, Gauge<f64, AtomicU64>>,
    pub sweep_refused_rows: Family<WorkerLabels, Counter>,
    pub intents_pending: Gauge,
    pub intent_oldest_seconds: Gauge<f64, AtomicU64>,
    pub intents_resumed: Counter,
    pub intents_abandoned: Counter,
    pub personal_data_erased: Counter,
    pub personal_data_erasure_failures: Counter,
    pub wallet_breaker_state: Gauge,
    pub wallet_calls_in_flight: Gauge,
    pub reconcile_drift: Family<DriftLabels, Gauge>,
    pub reconcile_in_flight: Gauge,
    pub reconcile_last_run: Gauge,
    pub reconcile_failures: Counter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("order_service");
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let metrics = Metrics {
            peer_requests: Family::default(),
            peer_duration: Family::<PeerLabels, Histogram>::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.001, 2.0, 14))
            }),
            order_transitions: Family::default(),
            http_requests,
            http_duration,
            outbox_published: Counter::default(),
            outbox_failures: Counter::default(),
            outbox_parked_events: Counter::default(),
            auto_completed: Counter::default(),
            auto_complete_failures: Counter::default(),
            outbox_pending: Gauge::default(),
            outbox_parked: Gauge::default(),
            outbox_held_back: Gauge::default(),
            outbox_bus_available: Gauge::default(),
            outbox_lag_seconds: Gauge::default(),
            db_pool_connections: Gauge::default(),
            db_pool_idle: Gauge::default(),
            db_pool_waiting: Gauge::default(),
            deadline_effects: Family::default(),
            deadline_overdue_seconds: Family::default(),
            sweep_refused_rows: Family::default(),
            intents_pending: Gauge::default(),
            intent_oldest_seconds: Gauge::default(),
            intents_resumed: Counter::default(),
            intents_abandoned: Counter::default(),
            personal_data_erased: Counter::default(),
            personal_data_erasure_failures: Counter::default(),
            wallet_breaker_state: Gauge::default(),
            wallet_calls_in_flight: Gauge::default(),
            reconcile_drift: Family::default(),
            reconcile_in_flight: Gauge::default(),
            reconcile_last_run: Gauge::default(),
            reconcile_failures: Counter::default(),
            registry: Registry::default(),
        };
        let m = &metrics;
        registry.register(
            "http_requests",
            "HTTP requests served, by route, method and status",
            m.http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            m.http_duration.clone(),
        );
        registry.register(
            "peer_requests",
            "Calls to the Wallet and Listing services, by outcome",
            m.peer_requests.clone(),
        );
        registry.register(
            "peer_request_duration_seconds",
            "Latency of calls to peers, retries included",
            m.peer_duration.clone(),
        );
        registry.register(
            "order_transitions",
            "Committed order and dispute transitions, by the event they raised",
            m.order_transitions.clone(),
        );
        registry.register(
            "outbox_published_events",
            "Events published by this replica",
            m.outbox_published.clone(),
        );
        registry.register(
            "outbox_publish_failures",
            "Failed event publications (bus unavailable, or an entry refused), retried later",
            m.outbox_failures.clone(),
        );
        registry.register(
            "outbox_parked_events",
            "Events this replica parked because the bus refused them for good",
            m.outbox_parked_events.clone(),
        );
        registry.register(
            "orders_auto_completed",
            "Orders completed by the auto-completion worker",
            m.auto_completed.clone(),
        );
        registry.register(
            "auto_complete_failures",
            "Due orders whose escrow release failed, retried next sweep",
            m.auto_complete_failures.clone(),
        );
        registry.register(
            "outbox_pending_rows",
            "Outbox rows waiting to be published",
            m.outbox_pending.clone(),
        );
        registry.register(
            "outbox_parked_rows",
            "Outbox rows the bus refused for good; they need a person (order-api outbox parked)",
            m.outbox_parked.clone(),
        );
        registry.register(
            "outbox_held_back_rows",
            "Outbox rows waiting behind a parked event of their order",
            m.outbox_held_back.clone(),
        );
        registry.register(
            "outbox_bus_available",
            "Whether this replica's relay last found the event bus available (1) or not (0)",
            m.outbox_bus_available.clone(),
        );
        registry.register(
            "outbox_lag_seconds",
            "Age of the oldest unpublished outbox row",
            m.outbox_lag_seconds.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open database connections",
            m.db_pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            m.db_pool_idle.clone(),
        );
        registry.register(
            "db_pool_waiting_requests",
            "Requests waiting for a database connection",
            m.db_pool_waiting.clone(),
        );
        registry.register(
            "deadline_effects",
            "What this replica's deadline worker did: payments expired, late shipments announced, disputes escalated",
            m.deadline_effects.clone(),
        );
        registry.register(
            "deadline_overdue_seconds",
            "How long past its deadline the longest overdue order (or dispute) of each sweep has waited for it (database-wide; 0 when none is due)",
            m.deadline_overdue_seconds.clone(),
        );
        registry.register(
            "sweep_refused_rows",
            "Rows a worker's sweep claimed as due that the domain refused, each logged and passed over (the store and the domain disagree: a bug)",
            m.sweep_refused_rows.clone(),
        );
        registry.register(
            "escrow_intents_pending",
            "Orders waiting on a Wallet movement (recorded, not yet applied)",
            m.intents_pending.clone(),
        );
        registry.register(
            "escrow_intent_oldest_seconds",
            "Age of the oldest pending Wallet movement",
            m.intent_oldest_seconds.clone(),
        );
        registry.register(
            "escrow_intents_resumed",
            "Wallet movements this replica's worker finished for a requester that went silent",
            m.intents_resumed.clone(),
        );
        registry.register(
            "escrow_intents_abandoned",
            "Wallet movements the Wallet refused for good; dropped, nothing moved",
            m.intents_abandoned.clone(),
        );
        registry.register(
            "personal_data_erased",
            "Orders whose personal data this replica's worker erased (retention passed, or a party asked)",
            m.personal_data_erased.clone(),
        );
        registry.register(
            "personal_data_erasure_failures",
            "Rounds of this replica's erasure worker that failed (retried next round)",
            m.personal_data_erasure_failures.clone(),
        );
        registry.register(
            "reconcile_drift",
            "Orders' disagreements with their Wallet escrows found by the last reconciliation (any replica's), by kind",
            m.reconcile_drift.clone(),
        );
        registry.register(
            "reconcile_in_flight",
            "Orders waiting on a Wallet movement when the last reconciliation read them (not drift)",
            m.reconcile_in_flight.clone(),
        );
        registry.register(
            "reconcile_last_run_timestamp_seconds",
            "When the last reconciliation finished (unix seconds; 0 before the first)",
            m.reconcile_last_run.clone(),
        );
        registry.register(
            "reconcile_failures",
            "Reconciliations this replica could not finish (the Wallet or the database unreadable)",
            m.reconcile_failures.clone(),
        );
        registry.register(
            "wallet_breaker_state",
            "The Wallet's circuit breaker: 0 closed, 1 open, 2 half-open (probing)",
            m.wallet_breaker_state.clone(),
        );
        registry.register(
            "wallet_calls_in_flight",
            "Wallet calls in flight on this replica (capped by WALLET_MAX_CONCURRENT_CALLS)",
            m.wallet_calls_in_flight.clone(),
        );
        // Until the relay has tried the bus, it is presumed available.
        m.outbox_bus_available.set(1);
        // Each worker's count exists from the start, at 0, so that its first refusal is an
        // increase an alert sees.
        for sweeper in Sweeper::ALL {
            m.refused(sweeper, 0);
        }
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Counts `rows` that `sweeper`'s sweep passed over because the domain refused them.
    pub fn refused(&self, sweeper: Sweeper, rows: usize) {
        let labels = WorkerLabels {
            worker: sweeper.label(),
        };
        self.sweep_refused_rows
            .get_or_create(&labels)
            .inc_by(rows as u64);
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail; were it to, the scrape shows what was written.
        if let Err(error) = encode(&mut text, &self.registry) {
            tracing::error!(%error, "the metrics did not encode");
        }
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
