//! The Order Service's published event document, as types: the service writes its events
//! with them, and a consumer — the Wallet, notifications, search, fraud checks — reads them
//! with the very same definitions, so the two cannot drift apart.
//!
//! It depends on `order-domain` (whose value types the document carries) and `serde` only;
//! it holds no I/O. Reading is lenient by design: fields this version does not know are
//! ignored, and event types it does not know are read as [`EventKind::Unknown`], so that a
//! consumer built against an older version keeps working when the service adds either.
//! [`EVENT_VERSION`] says what may change without a new version.

#![warn(missing_docs)]

mod erasure;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use order_domain::dispute::{
    DisputeReason, DisputeStatus, DisputeSummary, EvidenceUrl, Offer, Resolution,
};
use order_domain::order::{
    Carrier, DeadlineExtension, DeliveryProblem, OrderSource, ShippingAddress, TrackingNumber,
};
use order_domain::{
    Dispute, DisputeId, DomainEvent, EscrowId, EventId, EventType, ListingId, Money, Order,
    OrderId, OrderStatus, Settlement, UserId,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use erasure::erase_personal_fields;

/// The version of the event document this crate writes and reads. It is bumped only by an
/// incompatible change: a field removed, renamed or given another meaning, or an event
/// type given another meaning. New fields and new event types are not incompatible: a
/// reader ignores fields it does not know and reads event types it does not know as
/// [`EventKind::Unknown`].
pub const EVENT_VERSION: u32 = 1;

/// An order, as every answer and event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Order))]
pub struct OrderView {
    /// The order's id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: OrderId,
    /// The listing it buys.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub listing_id: ListingId,
    /// Who buys.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub buyer_id: UserId,
    /// Who sells.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub seller_id: UserId,
    /// `AUCTION` or `BUY_NOW`.
    pub source: OrderSource,
    /// The item's price.
    pub amount: Money,
    /// The platform's fee on `amount`, fixed at creation.
    pub fee_amount: Money,
    /// What shipping costs the buyer.
    pub shipping_cost: Money,
    /// `amount + shipping_cost`: what the escrow holds once paid.
    pub total: Money,
    /// The order's status right after the event.
    pub status: OrderStatus,
    /// Where the item goes.
    pub shipping_address: ShippingAddress,
    /// The tracking number, once shipped.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub tracking_number: Option<TrackingNumber>,
    /// The carrier, once shipped.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub carrier: Option<Carrier>,
    /// The Wallet's escrow, once paid.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<uuid::Uuid>))]
    pub escrow_id: Option<EscrowId>,
    /// When the order was created.
    pub created_at: DateTime<Utc>,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was shipped.
    pub shipped_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the escrow was released to the seller.
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// An auction winner's payment deadline (`created_at + PAYMENT_WINDOW`) while
    /// PENDING_PAYMENT; null otherwise, and always for BUY_NOW.
    pub pay_by: Option<DateTime<Utc>>,
    /// The seller's shipping deadline (`paid_at + SHIP_WITHIN`) while PAID, else null.
    /// Past it the buyer may cancel the order.
    pub ship_by: Option<DateTime<Utc>>,
    /// When the order completes by itself while SHIPPED or DELIVERED, else null:
    /// `shipped_at + AUTO_COMPLETE_AFTER`, brought forward to
    /// `delivered_at + AUTO_COMPLETE_AFTER_DELIVERY` on delivery, or after a NO_ACTION
    /// resolution what was left of that window when the dispute opened (at least an hour),
    /// counted from then. Null while SHIPPED or DELIVERED when a returned parcel stopped
    /// the clock.
    pub auto_complete_at: Option<DateTime<Utc>>,
    /// The last problem the carrier reported (a failed attempt, a return, an exception),
    /// null once it reports the parcel moving again or if it never reported one.
    #[serde(default)]
    pub delivery_problem: Option<DeliveryProblem>,
    /// When its personal data (address, free texts) was erased; null while it is kept.
    #[serde(default)]
    pub personal_data_erased_at: Option<DateTime<Utc>>,
    /// Its dispute's id, status and resolution, if it ever had one.
    pub dispute: Option<DisputeSummary>,
}

impl OrderView {
    /// The order as shown: each deadline only while it runs, though the order
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
            delivery_problem: order.delivery_problem.clone(),
            personal_data_erased_at: order.personal_data_erased_at,
            dispute: order.dispute,
        }
    }
}

/// A dispute, as every answer and event carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Dispute))]
pub struct DisputeView {
    /// The dispute's id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: DisputeId,
    /// The disputed order.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub order_id: OrderId,
    /// The party who opened it.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub opened_by: UserId,
    /// Why, as its opener wrote it.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub reason: DisputeReason,
    /// The evidence links, oldest first.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub evidence: Vec<EvidenceUrl>,
    /// Its status right after the event.
    pub status: DisputeStatus,
    /// The admin's decision, once resolved.
    pub resolution: Option<Resolution>,
    /// What the buyer got back, for a refunding resolution.
    pub refund_amount: Option<Money>,
    /// The admin's notes; null for anyone but an admin, and in every event.
    pub admin_notes: Option<String>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The answer deadline of the party that did not open the dispute
    /// (`created_at + DISPUTE_RESPONSE_WINDOW`); null once it added evidence or the dispute
    /// left OPEN/EVIDENCE. Past it, the dispute goes to REVIEW by itself.
    pub respond_by: Option<DateTime<Utc>>,
    /// When that party first added evidence.
    pub responded_at: Option<DateTime<Utc>>,
    /// When the dispute went to REVIEW because nobody answered by `respond_by`.
    pub escalated_at: Option<DateTime<Utc>>,
    /// The seller's settlement offers, oldest first (absent from events written before
    /// offers existed: read as none).
    #[serde(default)]
    pub offers: Vec<Offer>,
}

impl DisputeView {
    /// The dispute as an admin reads it: with the admin's notes.
    pub fn with_admin_notes(dispute: &Dispute) -> DisputeView {
        DisputeView {
            admin_notes: Some(dispute.admin_notes.clone()),
            ..DisputeView::from(dispute)
        }
    }
}

/// The dispute as its parties and every event consumer see it: without the admin's notes.
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
            admin_notes: None,
            created_at: dispute.created_at,
            updated_at: dispute.updated_at,
            resolved_at: dispute.resolved_at,
            respond_by: dispute.respond_by,
            responded_at: dispute.responded_at,
            escalated_at: dispute.escalated_at,
            offers: dispute.offers.clone(),
        }
    }
}

/// The document published for an event: EventBridge's `Detail`, and the replay feed's
/// `detail`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDocument {
    /// Unique per event: a consumer drops a second delivery of the same id.
    pub event_id: EventId,
    /// What happened.
    pub event_type: EventKind,
    /// The document's [`EVENT_VERSION`].
    pub version: u32,
    /// When it happened, by the service's clock.
    pub occurred_at: DateTime<Utc>,
    /// The event's place among its order's events: 1, 2, 3…, gap-free.
    pub sequence: u64,
    /// The order right after the event.
    pub order: OrderView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The order's dispute right after the event, on the events that concern one.
    pub dispute: Option<DisputeView>,
    /// Where the escrow went, on the events that pay it out; the three parts sum to the
    /// order's total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<Settlement>,
    /// Why a seller or an admin acted, on the events of a refund, release or split outside
    /// a dispute, an admin's cancellation and an extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// On `order.deadline_extended`: which deadline moved, from when to when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<DeadlineExtension>,
}

impl EventDocument {
    /// The document of `event`, published with `event_id` as its order's `sequence`th.
    pub fn new(event_id: EventId, event: &DomainEvent, sequence: u64) -> Self {
        EventDocument {
            event_id,
            event_type: EventKind::Known(event.event_type),
            version: EVENT_VERSION,
            occurred_at: event.occurred_at,
            sequence,
            order: OrderView::new(&event.order),
            dispute: event.dispute.as_ref().map(DisputeView::from),
            settlement: event.settlement,
            reason: event
                .reason
                .as_ref()
                .map(|reason| reason.as_str().to_owned()),
            extension: event.extension,
        }
    }
}

/// An event's type: one this version knows, or a newer one it does not.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A type this version knows.
    Known(EventType),
    /// A type added after this version, by its name: skip it, or log it.
    Unknown(String),
}

impl EventKind {
    /// The type's name, as in EventBridge's `DetailType` (`order.completed`).
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Known(known) => known.as_str(),
            EventKind::Unknown(name) => name,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for EventKind {
    fn from(name: &str) -> Self {
        EventType::from_str(name)
            .map(EventKind::Known)
            .unwrap_or_else(|_| EventKind::Unknown(name.to_owned()))
    }
}

impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(EventKind::from(name.as_str()))
    }
}
