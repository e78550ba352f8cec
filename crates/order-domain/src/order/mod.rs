//! The Order aggregate: what was bought, by whom, for how much, and where it stands.

mod allowed;
mod cancellation;
mod carrier;
mod deadline;
mod escrow_intent;
mod idle;
mod operator;
mod shipping;
mod status;
mod terms;
mod transition;

pub use allowed::{DISPUTE_ACTIONS, ORDER_ACTIONS};
pub use cancellation::{ActionReason, CancellationReason};
pub use carrier::{
    CarrierDetail, CarrierEventId, DeliveryProblem, ParcelKey, ProblemStatus, TrackingStatus,
    TrackingUpdate,
};
pub use deadline::{resumed, Deadlines, Sweep, MIN_RESUMED_WINDOW};
pub use escrow_intent::{
    Canceller, DisputeChange, EscrowIntent, EscrowPurpose, IntentFinished, IntentRequest, Movement,
    WalletAnswer, WalletCall,
};
pub use idle::IdleOrder;
pub use operator::{
    AdminCancellation, DeadlineExtension, DirectSettlement, ExtendedDeadline, MAX_EXTENSION,
};
pub(crate) use shipping::string_newtype_conversions;
pub use shipping::{Carrier, ShippingAddress, TrackingNumber};
pub use status::{OrderAction, OrderSource, OrderStatus, UnknownOrderStatus};
pub use terms::Terms;
pub use transition::NewOrder;

use std::ops::Deref;

use chrono::{DateTime, Utc};

use crate::dispute::DisputeSummary;
use crate::event::{DomainEvent, EventType};
use crate::id::{EscrowId, ListingId, OrderId, UserId};
use crate::money::Money;

/// Everything an order records. Readable by anyone through [`Order`]'s `Deref`; changed
/// only by [`Order`]'s transition methods, so that no status is reached without its rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderData {
    /// The order's id.
    pub id: OrderId,
    /// The listing it buys.
    pub listing_id: ListingId,
    /// Who buys; never the seller.
    pub buyer_id: UserId,
    /// Who sells.
    pub seller_id: UserId,
    /// How it came about: an auction's win or a Buy It Now.
    pub source: OrderSource,
    /// The item's price: the winning bid or the Buy It Now price.
    pub amount: Money,
    /// The platform's fee on `amount`, fixed when the order is created.
    pub fee_amount: Money,
    /// What shipping costs the buyer on top of `amount`.
    pub shipping_cost: Money,
    /// Where the order is in its life.
    pub status: OrderStatus,
    /// Where the item goes.
    pub shipping_address: ShippingAddress,
    /// The carrier's tracking number, once shipped.
    pub tracking_number: Option<TrackingNumber>,
    /// The carrier, once shipped.
    pub carrier: Option<Carrier>,
    /// The Wallet's escrow holding `total`; set when the order is paid.
    pub escrow_id: Option<EscrowId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the escrow took the total.
    pub paid_at: Option<DateTime<Utc>>,
    /// When the seller shipped.
    pub shipped_at: Option<DateTime<Utc>>,
    /// When the carrier delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the escrow was released to the seller.
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it was cancelled, if a reason was given.
    pub cancellation_reason: Option<CancellationReason>,
    /// When an auction's winner must have paid by; set while PENDING_PAYMENT.
    pub pay_by: Option<DateTime<Utc>>,
    /// When the seller must have shipped by; set while PAID (kept, paused, while disputed
    /// from PAID).
    pub ship_by: Option<DateTime<Utc>>,
    /// When the seller's lateness was announced (`order.ship_overdue`), once per order.
    pub ship_overdue_at: Option<DateTime<Utc>>,
    /// When the order completes by itself; set while SHIPPED or DELIVERED (kept, paused,
    /// while disputed from either), unless a returned parcel stopped the clock.
    pub auto_complete_at: Option<DateTime<Utc>>,
    /// The last problem the carrier reported, until it reports the parcel moving again.
    pub delivery_problem: Option<DeliveryProblem>,
    /// When it ended (COMPLETED, REFUNDED or CANCELLED): the retention of its personal
    /// data counts from here. Orders that ended before this was recorded have it filled in
    /// by the store (see `Store::backfill_ended_at`).
    pub ended_at: Option<DateTime<Utc>>,
    /// When a party to it asked for their personal data to be erased: erased as soon as it
    /// has ended rather than after the retention period.
    pub erasure_requested_at: Option<DateTime<Utc>>,
    /// When its personal data was erased (see [`crate::personal`]).
    pub personal_data_erased_at: Option<DateTime<Utc>>,
    /// Where a NO_ACTION resolution returns the order to; set while it is disputed.
    pub status_before_dispute: Option<OrderStatus>,
    /// The order's one dispute, if it ever had one.
    pub dispute: Option<DisputeSummary>,
    /// The Wallet movement the order waits on, if any; every other change waits for it.
    pub escrow_intent: Option<EscrowIntent>,
}

/// The three ways an order ends; [`OrderData::end`] is the one way to reach them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The escrow went to the seller, in whole or in part.
    Completed,
    /// The whole escrow went back to the buyer after the item shipped.
    Refunded,
    /// Called off before shipping; a paid order's escrow went back to the buyer.
    Cancelled,
}

impl OrderData {
    /// Ends the order as `ending` at `now`, with the time each status records and the
    /// `ended_at` that every ending records alike.
    pub(crate) fn end(&mut self, ending: Ending, now: DateTime<Utc>) {
        match ending {
            Ending::Completed => {
                self.status = OrderStatus::Completed;
                self.completed_at = Some(now);
            }
            Ending::Refunded => self.status = OrderStatus::Refunded,
            Ending::Cancelled => {
                self.status = OrderStatus::Cancelled;
                self.cancelled_at = Some(now);
            }
        }
        self.ended_at = Some(now);
    }
}

/// An order. Read its fields through `Deref`; change it through its transition methods,
/// each of which returns the changed order and the events the change raises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order(OrderData);

/// Which side of an order a user is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The order's buyer.
    Buyer,
    /// The order's seller.
    Seller,
}

/// The result of a transition: the changed aggregate and the events that announce it.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed<T> {
    /// The aggregate after the change.
    pub value: T,
    /// The events the change raises, in the order they happened.
    pub events: Vec<DomainEvent>,
}

impl Order {
    /// Rebuilds an order from storage. The data is trusted to have been written by this
    /// module's transitions.
    pub fn rehydrate(data: OrderData) -> Order {
        Order(data)
    }

    /// Gives up the order's data, for storage.
    pub fn into_data(self) -> OrderData {
        self.0
    }

    /// `amount + shipping_cost`: what the buyer pays and the escrow holds.
    pub fn total(&self) -> Money {
        self.amount
            .checked_add(self.shipping_cost)
            .expect("an order's total was checked to fit when it was created")
    }

    pub(crate) fn data_mut(&mut self) -> &mut OrderData {
        &mut self.0
    }

    /// The order as changed, announced by one event of `event_type`.
    pub(crate) fn announce(self, event_type: EventType, at: DateTime<Utc>) -> Changed<Order> {
        let event = DomainEvent::new(event_type, at, self.clone(), None);
        Changed {
            value: self,
            events: vec![event],
        }
    }
}

impl Deref for Order {
    type Target = OrderData;

    fn deref(&self) -> &OrderData {
        &self.0
    }
}
