//! The wire representation of orders, disputes and events: one shape for HTTP responses
//! and for published events, so that the two can never disagree.

use chrono::{DateTime, Utc};
use order_domain::dispute::{
    DisputeReason, DisputeStatus, DisputeSummary, EvidenceUrl, Resolution,
};
use order_domain::order::{Carrier, OrderSource, ShippingAddress, TrackingNumber};
use order_domain::Settlement;
use order_domain::{
    Dispute, DisputeId, DomainEvent, EscrowId, EventId, ListingId, Money, Order, OrderId,
    OrderStatus, UserId,
};
use serde::Serialize;
use serde_json::json;

/// The version of the event document; bumped only by an incompatible change.
pub const EVENT_VERSION: u32 = 1;

/// An order as callers and event consumers see it (SPEC §4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderView {
    pub id: OrderId,
    pub listing_id: ListingId,
    pub buyer_id: UserId,
    pub seller_id: UserId,
    pub source: OrderSource,
    pub amount: Money,
    pub fee_amount: Money,
    pub shipping_cost: Money,
    pub total: Money,
    pub status: OrderStatus,
    pub shipping_address: ShippingAddress,
    pub tracking_number: Option<TrackingNumber>,
    pub carrier: Option<Carrier>,
    pub escrow_id: Option<EscrowId>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// While PENDING_PAYMENT, for an auction's winner.
    pub pay_by: Option<DateTime<Utc>>,
    /// While PAID.
    pub ship_by: Option<DateTime<Utc>>,
    /// While SHIPPED or DELIVERED.
    pub auto_complete_at: Option<DateTime<Utc>>,
    pub dispute: Option<DisputeSummary>,
}

impl OrderView {
    /// The order as shown: each deadline only while it runs (SPEC §9.1), though the order
    /// keeps a deadline a dispute paused.
    pub fn new(order: &Order) -> OrderView {
        let shown_while = |deadline: Option<DateTime<Utc>>, statuses: &[OrderStatus]| {
            deadline.filter(|_| statuses.contains(&order.status))
        };
        OrderView {
            id: order.id,
            listing_id: order.listing_id,
            buyer_id: order.buyer_id,
            seller_id: order.seller_id,
            source: order.source,
            amount: order.amount,
            fee_amount: order.fee_amount,
            shipping_cost: order.shipping_cost,
            total: order.total(),
            status: order.status,
            shipping_address: order.shipping_address.clone(),
            tracking_number: order.tracking_number.clone(),
            carrier: order.carrier.clone(),
            escrow_id: order.escrow_id,
            created_at: order.created_at,
            paid_at: order.paid_at,
            shipped_at: order.shipped_at,
            delivered_at: order.delivered_at,
            completed_at: order.completed_at,
            cancelled_at: order.cancelled_at,
            pay_by: shown_while(order.pay_by, &[OrderStatus::PendingPayment]),
            ship_by: shown_while(order.ship_by, &[OrderStatus::Paid]),
            auto_complete_at: shown_while(
                order.auto_complete_at,
                &[OrderStatus::Shipped, OrderStatus::Delivered],
            ),
            dispute: order.dispute,
        }
    }
}

/// A dispute as admins and the order's parties see it (SPEC §4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisputeView {
    pub id: DisputeId,
    pub order_id: OrderId,
    pub opened_by: UserId,
    pub reason: DisputeReason,
    pub evidence: Vec<EvidenceUrl>,
    pub status: DisputeStatus,
    pub resolution: Option<Resolution>,
    pub refund_amount: Option<Money>,
    pub admin_notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// While the party that did not open the dispute has not answered and it is OPEN or
    /// in EVIDENCE.
    pub respond_by: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
}

impl From<&Dispute> for DisputeView {
    fn from(dispute: &Dispute) -> DisputeView {
        DisputeView {
            id: dispute.id,
            order_id: dispute.order_id,
            opened_by: dispute.opened_by,
            reason: dispute.reason.clone(),
            evidence: dispute.evidence.clone(),
            status: dispute.status,
            resolution: dispute.resolution,
            refund_amount: dispute.refund_amount,
            admin_notes: dispute.admin_notes.clone(),
            created_at: dispute.created_at,
            updated_at: dispute.updated_at,
            resolved_at: dispute.resolved_at,
            respond_by: dispute.respond_by,
            responded_at: dispute.responded_at,
            escalated_at: dispute.escalated_at,
        }
    }
}

/// The document published for an event (EventBridge's `Detail`, SPEC §7 and §9.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventDetail {
    pub event_id: EventId,
    pub event_type: &'static str,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    /// The event's place among its order's events: 1, 2, 3…, gap-free.
    pub sequence: u64,
    pub order: OrderView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute: Option<DisputeView>,
    /// Where the escrow went, on the events that pay it out; the three parts sum to the
    /// order's total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement: Option<Settlement>,
}

impl EventDetail {
    pub fn new(event_id: EventId, event: &DomainEvent, sequence: u64) -> Self {
        EventDetail {
            event_id,
            event_type: event.event_type.as_str(),
            version: EVENT_VERSION,
            occurred_at: event.occurred_at,
            sequence,
            order: OrderView::new(&event.order),
            dispute: event.dispute.as_ref().map(DisputeView::from),
            settlement: event.settlement,
        }
    }
}

/// What an event adds to its order's story, for the history (SPEC §9.2): only what the
/// event itself brings, never the order's snapshot nor an admin's notes.
pub fn story_details(event: &DomainEvent) -> serde_json::Value {
    use order_domain::EventType::*;
    let order = &event.order;
    let mut details = serde_json::Map::new();
    let mut put = |key: &str, value: serde_json::Value| {
        details.insert(key.to_owned(), value);
    };
    match event.event_type {
        OrderCreated => {
            put("source", json!(order.source));
            put("total", json!(order.total()));
        }
        OrderPaid => put("escrow_id", json!(order.escrow_id)),
        OrderShipped => {
            put("tracking_number", json!(order.tracking_number));
            put("carrier", json!(order.carrier));
        }
        OrderDelivered => put("delivered_at", json!(order.delivered_at)),
        OrderCancelled => put("reason", json!(order.cancellation_reason)),
        OrderShipOverdue => put("ship_by", json!(order.ship_by)),
        OrderCompleted | OrderRefunded | OrderDisputed | DisputeResolved | DisputeUpdated
        | DisputeEscalated | DisputeEvidenceAdded => {}
    }
    if let Some(dispute) = &event.dispute {
        put("dispute_id", json!(dispute.id));
        put("dispute_status", json!(dispute.status));
        match event.event_type {
            OrderDisputed => put("reason", json!(dispute.reason)),
            DisputeResolved => {
                put("resolution", json!(dispute.resolution));
                put("refund_amount", json!(dispute.refund_amount));
            }
            DisputeEvidenceAdded => put("urls", json!(event.new_evidence)),
            _ => {}
        }
    }
    if let Some(settlement) = &event.settlement {
        put("settlement", json!(settlement));
    }
    serde_json::Value::Object(details)
}
