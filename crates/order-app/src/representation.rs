//! The wire representation of orders, disputes and events: one shape for HTTP responses
//! and for published events, so that the two can never disagree.

use chrono::{DateTime, Utc};
use order_domain::dispute::{
    DisputeReason, DisputeStatus, DisputeSummary, EvidenceUrl, Resolution,
};
use order_domain::order::{Carrier, OrderSource, ShippingAddress, TrackingNumber};
use order_domain::{
    Dispute, DisputeId, DomainEvent, EscrowId, EventId, ListingId, Money, Order, OrderId,
    OrderStatus, UserId,
};
use serde::Serialize;

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

/// The document published for an event (EventBridge's `Detail`, SPEC §7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventDetail {
    pub event_id: EventId,
    pub event_type: &'static str,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    pub order: OrderView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute: Option<DisputeView>,
}

impl EventDetail {
    pub fn new(event_id: EventId, event: &DomainEvent) -> Self {
        EventDetail {
            event_id,
            event_type: event.event_type.as_str(),
            version: EVENT_VERSION,
            occurred_at: event.occurred_at,
            order: OrderView::new(&event.order),
            dispute: event.dispute.as_ref().map(DisputeView::from),
        }
    }
}
