//! Erasure of personal data in memory: where a user's orders stand, and the `ended_at` of
//! orders stored without one.

use chrono::{DateTime, Utc};
use order_domain::{EventType, Order, OrderId, UserId};
use order_ports::store::UserErasure;

use crate::state::State;

impl State {
    /// `OrderStore::erasure_of`.
    pub(crate) fn erasure_of(&self, user: UserId) -> UserErasure {
        let mut counts = UserErasure::default();
        for stored in self.orders.values() {
            let order = &stored.order;
            if order.buyer_id != user && order.seller_id != user {
                continue;
            }
            if order.personal_data_erased_at.is_some() {
                counts.erased += 1;
            } else {
                counts.pending += 1;
            }
        }
        counts
    }

    /// The ended orders stored without `ended_at`.
    pub(crate) fn end_unrecorded(&self) -> Vec<OrderId> {
        self.orders
            .values()
            .filter(|stored| stored.order.has_ended() && stored.order.ended_at.is_none())
            .map(|stored| stored.order.id)
            .collect()
    }

    /// Records when order `id` ended, as the PostgreSQL store does: the time its status
    /// records, else its refund's event, else its latest event, else its creation.
    pub(crate) fn record_end(&mut self, id: OrderId) {
        let events: Vec<(EventType, DateTime<Utc>)> = self
            .outbox
            .iter()
            .filter(|row| row.event.message.order_id == id)
            .map(|row| (row.event.message.event_type, row.event.message.occurred_at))
            .collect();
        let Some(stored) = self.orders.get_mut(&id) else {
            return;
        };
        let order = &stored.order;
        if !order.has_ended() || order.ended_at.is_some() {
            return;
        }
        let refunded = events
            .iter()
            .filter(|(kind, _)| *kind == EventType::OrderRefunded)
            .map(|(_, at)| *at)
            .max();
        let latest = events.iter().map(|(_, at)| *at).max();
        let ended_at = order
            .completed_at
            .or(order.cancelled_at)
            .or(refunded)
            .or(latest)
            .unwrap_or(order.created_at);
        let mut data = order.clone().into_data();
        data.ended_at = Some(ended_at);
        stored.order = Order::rehydrate(data);
    }
}
