//! The events a change to an order raises.

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

use crate::dispute::{Dispute, EvidenceUrl, Offer};
use crate::id::UserId;
use crate::money::Settlement;
use crate::order::{ActionReason, DeadlineExtension, Order};

/// The name of an event, as published in EventBridge's `DetailType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `order.created`: a new order, PENDING_PAYMENT or already PAID.
    OrderCreated,
    /// `order.paid`: the escrow holds the total.
    OrderPaid,
    /// `order.shipped`: the seller gave a tracking number.
    OrderShipped,
    /// `order.delivered`: the carrier delivered it.
    OrderDelivered,
    /// `order.completed`: the escrow was released to the seller.
    OrderCompleted,
    /// `order.cancelled`: the order ended before shipping.
    OrderCancelled,
    /// `order.disputed`: a party opened a dispute.
    OrderDisputed,
    /// `order.refunded`: the escrow went back to the buyer.
    OrderRefunded,
    /// `dispute.resolved`: an admin decided the dispute.
    DisputeResolved,
    /// The seller let `ship_by` pass; the buyer may cancel.
    OrderShipOverdue,
    /// Nobody answered a dispute by `respond_by`; it went to REVIEW.
    DisputeEscalated,
    /// A party added evidence to a dispute.
    DisputeEvidenceAdded,
    /// An admin moved a dispute's status or changed its notes, short of a resolution.
    DisputeUpdated,
    /// `order.deadline_extended`: an admin moved a running deadline later.
    OrderDeadlineExtended,
    /// `dispute.offer_made`: the seller offered the buyer a refund.
    DisputeOfferMade,
    /// `dispute.offer_declined`: the buyer declined the seller's offer.
    DisputeOfferDeclined,
    /// `order.delivery_problem`: the carrier reported a problem with the parcel, or that
    /// the parcel is moving again (the order's `delivery_problem` is then null).
    OrderDeliveryProblem,
    /// `order.personal_data_erased`: the order's personal data was erased (its retention
    /// ran out, or a party asked); consumers erase their own copies. It carries none.
    OrderPersonalDataErased,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 18] = [
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
        EventType::DisputeEvidenceAdded,
        EventType::DisputeUpdated,
        EventType::OrderDeadlineExtended,
        EventType::DisputeOfferMade,
        EventType::DisputeOfferDeclined,
        EventType::OrderDeliveryProblem,
        EventType::OrderPersonalDataErased,
    ];

    /// The wire name, such as `order.completed`.
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
            EventType::DisputeEvidenceAdded => "dispute.evidence_added",
            EventType::DisputeUpdated => "dispute.updated",
            EventType::OrderDeadlineExtended => "order.deadline_extended",
            EventType::DisputeOfferMade => "dispute.offer_made",
            EventType::DisputeOfferDeclined => "dispute.offer_declined",
            EventType::OrderDeliveryProblem => "order.delivery_problem",
            EventType::OrderPersonalDataErased => "order.personal_data_erased",
        }
    }
}

wire_name!(EventType, "an event type");

/// Something that happened to an order, with the order (and dispute) as they were right
/// after it, so that the published payload describes that moment and not a later one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainEvent {
    /// What happened.
    pub event_type: EventType,
    /// When, by the service's clock.
    pub occurred_at: DateTime<Utc>,
    /// The order right after it.
    pub order: Order,
    /// The order's dispute right after it, for the events that concern one.
    pub dispute: Option<Dispute>,
    /// Where the escrow went, for the events that pay it out: `order.completed`,
    /// `order.refunded`, and `order.cancelled` of a paid order.
    pub settlement: Option<Settlement>,
    /// The URLs a `dispute.evidence_added` added.
    pub new_evidence: Vec<EvidenceUrl>,
    /// Why a seller or an admin acted, on the events of their refund, release, split,
    /// cancellation or extension.
    pub reason: Option<ActionReason>,
    /// Which deadline an `order.deadline_extended` moved, from when to when.
    pub extension: Option<DeadlineExtension>,
    /// The offer a `dispute.offer_made` or `dispute.offer_declined` is about.
    pub offer: Option<Offer>,
}

/// Who made a change happen, as the order's history shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// The order's buyer.
    Buyer(UserId),
    /// The order's seller.
    Seller(UserId),
    /// A staff user acting on an order they are not a party to.
    Admin(UserId),
    /// Another marketplace service (the Auction service creating an order, say).
    Service,
    /// This service on its own: a deadline, the automatic completion.
    System,
    /// A carrier's signed tracking update.
    Carrier,
}

impl Actor {
    /// `buyer`, `seller`, `admin`, `service`, `system` or `carrier`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Buyer(_) => "buyer",
            Actor::Seller(_) => "seller",
            Actor::Admin(_) => "admin",
            Actor::Service => "service",
            Actor::System => "system",
            Actor::Carrier => "carrier",
        }
    }

    /// The user behind it; none for a service or the system.
    pub fn id(&self) -> Option<UserId> {
        match self {
            Actor::Buyer(id) | Actor::Seller(id) | Actor::Admin(id) => Some(*id),
            Actor::Service | Actor::System | Actor::Carrier => None,
        }
    }
}

impl DomainEvent {
    /// An event of `order` (and `dispute`) at `occurred_at`, with no settlement or evidence.
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
            settlement: None,
            new_evidence: Vec::new(),
            reason: None,
            extension: None,
            offer: None,
        }
    }

    /// The event, paying the escrow out as `settlement` says.
    pub fn with_settlement(mut self, settlement: Settlement) -> Self {
        self.settlement = Some(settlement);
        self
    }
}
