//! What every request handler shares.

use std::sync::Arc;

use order_app::{Caller, DisputeView, OrderService, OrderView};
use order_domain::{Dispute, Order};
use order_peers::GuardedWallet;
use order_ports::Clock;
use order_postgres::{IdempotencyKeys, PgStore};
use serde_json::{json, Value};

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
    /// The order as `caller` receives it: the representation, and what this caller may do
    /// to it now (SPEC §9.3; a service may do none of it).
    pub fn order_json(&self, order: &Order, caller: Caller) -> Value {
        let mut value =
            serde_json::to_value(OrderView::new(order)).expect("an order always serializes");
        let allowed = match caller {
            Caller::User { id, .. } => order.allowed_actions(id, self.clock.now()),
            Caller::Service => Vec::new(),
        };
        value["allowed_actions"] = json!(allowed);
        value
    }

    /// The dispute as `caller` receives it, with what this caller may do to it.
    pub fn dispute_json(&self, dispute: &Dispute, caller: Caller) -> Value {
        let mut value =
            serde_json::to_value(DisputeView::from(dispute)).expect("a dispute always serializes");
        let allowed = match caller {
            Caller::User { id, is_staff } => dispute.allowed_actions(id, is_staff),
            Caller::Service => Vec::new(),
        };
        value["allowed_actions"] = json!(allowed);
        value
    }
}
