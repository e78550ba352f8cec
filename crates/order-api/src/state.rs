//! What every request handler shares.

use std::sync::Arc;

use order_app::{Caller, DisputeView, OrderService, OrderView};
use order_domain::{Dispute, Order};
use order_peers::GuardedWallet;
use order_ports::Clock;
use order_postgres::{IdempotencyKeys, PgStore};
use serde_json::Value;

use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::hosts::Hosts;
use crate::metrics::Metrics;
use crate::representation::WithActions;

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
    /// Which hosts are answered, and where links point.
    pub hosts: Hosts,
    /// The secret carriers sign their updates with; `None` turns the endpoint off.
    pub carrier_secret: Option<crate::carrier_signature::CarrierSecret>,
}

impl AppState {
    /// Personal data's erasure, through this state's stores.
    pub fn erasure(&self) -> crate::personal_data::Erasure<'_> {
        crate::personal_data::Erasure {
            service: &self.service,
            idempotency: &self.idempotency,
        }
    }

    /// The order as `caller` receives it: the representation, and what this caller may do
    /// to it now (a service may do none of it).
    pub fn order_view(&self, order: &Order, caller: Caller) -> WithActions<OrderView> {
        let allowed_actions = match caller {
            Caller::User { id, .. } => {
                order.allowed_actions(id, caller.as_admin(), self.clock.now())
            }
            Caller::Service => Vec::new(),
        };
        WithActions {
            view: OrderView::new(order),
            allowed_actions,
        }
    }

    /// [`AppState::order_view`] as a JSON value.
    pub fn order_json(&self, order: &Order, caller: Caller) -> Result<Value, ApiError> {
        serde_json::to_value(self.order_view(order, caller)).map_err(ApiError::serializing)
    }

    /// The dispute as `caller` receives it, with what this caller may do to it; the
    /// admin's notes only for an admin.
    pub fn dispute_view(&self, dispute: &Dispute, caller: Caller) -> WithActions<DisputeView> {
        let (allowed_actions, view) = match caller {
            Caller::User { id, is_staff } => (
                dispute.allowed_actions(id, is_staff),
                if is_staff {
                    DisputeView::with_admin_notes(dispute)
                } else {
                    DisputeView::from(dispute)
                },
            ),
            Caller::Service => (Vec::new(), DisputeView::from(dispute)),
        };
        WithActions {
            view,
            allowed_actions,
        }
    }

    /// [`AppState::dispute_view`] as a JSON value.
    pub fn dispute_json(&self, dispute: &Dispute, caller: Caller) -> Result<Value, ApiError> {
        serde_json::to_value(self.dispute_view(dispute, caller)).map_err(ApiError::serializing)
    }
}
