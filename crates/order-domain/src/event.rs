//! The events a change to an order raises (SPEC §7).

use std::fmt;

use chrono::{DateTime, Utc};

use crate::dispute::Dispute;
use crate::order::Order;

/// The name of an event, as published in EventBridge's `DetailType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    OrderCreated,
    OrderPaid,
    OrderShipped,
    OrderDelivered,
    OrderCompleted,
    OrderCancelled,
    OrderDisputed,
    OrderRefunded,
    DisputeResolved,
    /// The seller let `ship_by` pass; the buyer may cancel (SPEC §9.1).
    OrderShipOverdue,
    /// Nobody answered a dispute by `respond_by`; it went to REVIEW (SPEC §9.1).
    DisputeEscalated,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::OrderCreated,
        EventType::OrderPaid,
        EventType::OrderShipped,
        EventType::OrderDelivered,
        EventType::OrderCompleted,
        EventType::OrderCancelled,
        EventType::OrderDisputed,
        EventType::OrderRefunded,
        EventType::DisputeResolved,
        EventType::OrderShipOverdue,
        EventType::DisputeEscalated,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::OrderCreated => "order.created",
            EventType::OrderPaid => "order.paid",
            EventType::OrderShipped => "order.shipped",
            EventType::OrderDelivered => "order.delivered",
            EventType::OrderCompleted => "order.completed",
            EventType::OrderCancelled => "order.cancelled",
            EventType::OrderDisputed => "order.disputed",
            EventType::OrderRefunded => "order.refunded",
            EventType::DisputeResolved => "dispute.resolved",
            EventType::OrderShipOverdue => "order.ship_overdue",
            EventType::DisputeEscalated => "dispute.escalated",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happened to an order, with the order (and dispute) as they were right
/// after it, so that the published payload describes that moment and not a later one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainEvent {
    pub event_type: EventType,
    pub occurred_at: DateTime<Utc>,
    pub order: Order,
    pub dispute: Option<Dispute>,
}

impl DomainEvent {
    pub fn new(
        event_type: EventType,
        occurred_at: DateTime<Utc>,
        order: Order,
        dispute: Option<Dispute>,
    ) -> Self {
        DomainEvent {
            event_type,
            occurred_at,
            order,
            dispute,
        }
    }
}
