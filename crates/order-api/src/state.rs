//! What every request handler shares.

use std::sync::Arc;

use order_app::{DisputeView, OrderService, OrderView};
use order_domain::{Dispute, Order};
use order_peers::GuardedWallet;
use order_ports::Clock;
use order_postgres::{IdempotencyKeys, PgStore};
use serde_json::Value;

use crate::auth::Authenticator;
use crate::metrics::Metrics;

pub struct AppState {
    pub service: OrderService,
    pub auth: Authenticator,
    pub idempotency: IdempotencyKeys,
    /// For the readiness probe.
    pub store: PgStore,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// The Wallet's breaker and concurrency cap, for `/metrics`.
    pub wallet_guard: Arc<GuardedWallet>,
    /// Browser origins allowed to call the API (`CORS_ALLOWED_ORIGINS`).
    pub cors_allowed_origins: Vec<String>,
}

impl AppState {
    pub fn order_json(&self, order: &Order) -> Value {
        let view = OrderView::new(order);
        serde_json::to_value(view).expect("an order always serializes")
    }

    pub fn dispute_json(&self, dispute: &Dispute) -> Value {
        serde_json::to_value(DisputeView::from(dispute)).expect("a dispute always serializes")
    }
}
