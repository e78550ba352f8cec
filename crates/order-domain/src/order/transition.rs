//! The order's life: every way an order comes to be or changes status.

use crate::caller::Seller;
use chrono::{DateTime, Utc};

use super::{
    CancellationReason, Carrier, Changed, Deadlines, Ending, Order, OrderAction, OrderData,
    OrderSource, OrderStatus, ShippingAddress, Terms, TrackingNumber,
};
use crate::error::{DomainError, ListingUnavailable};
use crate::event::EventType;
use crate::id::{EscrowId, ListingId, OrderId, UserId};
use crate::listing::Listing;
use crate::money::{Money, Settlement};

/// What a new order is made of, before it gets an id, a fee and a status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// The listing bought.
    pub listing_id: ListingId,
    /// The buyer.
    pub buyer_id: UserId,
    /// The listing's seller.
    pub seller_id: UserId,
    /// An auction's win or a Buy It Now.
    pub source: OrderSource,
    /// The item's price.
    pub amount: Money,
    /// The shipping cost.
    pub shipping_cost: Money,
    /// Where to ship.
    pub shipping_address: ShippingAddress,
}

impl NewOrder {
    /// The order a Buy It Now of `listing` by `buyer` makes, if the listing can be bought.
    pub fn buy_now(
        listing: &Listing,
        buyer_id: UserId,
        shipping_address: ShippingAddress,
    ) -> Result<NewOrder, DomainError> {
        if buyer_id == listing.seller_id {
            return Err(self_purchase());
        }
        if !listing.is_active() {
            return Err(DomainError::ListingUnavailable(
                ListingUnavailable::NotActive,
            ));
        }
        let amount = listing
            .buy_now_price
            .filter(|price| !price.is_zero())
            .ok_or(DomainError::ListingUnavailable(
                ListingUnavailable::NoBuyNowPrice,
            ))?;
        Ok(NewOrder {
            listing_id: listing.id,
            buyer_id,
            seller_id: listing.seller_id,
            source: OrderSource::BuyNow,
            amount,
            shipping_cost: listing.shipping_cost,
            shipping_address,
        })
    }
}

impl Order {
    /// A new order awaiting payment, its fee computed at the terms' fee rate and, for an
    /// auction's winner, its payment deadline set. Raises `order.created`.
    pub fn place(
        id: OrderId,
        new: NewOrder,
        terms: &Terms,
        now: DateTime<Utc>,
    ) -> Result<Changed<Order>, DomainError> {
        if new.buyer_id == new.seller_id {
            return Err(self_purchase());
        }
        if new.amount.is_zero() {
            return Err(DomainError::invalid(
                "amount",
                "Ensure this value is greater than 0.00.",
            ));
        }
        if new.amount.checked_add(new.shipping_cost).is_err() {
            return Err(DomainError::invalid(
                "shipping_cost",
                format!(
                    "The total (amount + shipping_cost) must not exceed {}.",
                    Money::max()
                ),
            ));
        }
        let order = Order(OrderData {
            id,
            listing_id: new.listing_id,
            buyer_id: new.buyer_id,
            seller_id: new.seller_id,
            source: new.source,
            fee_amount: terms.fee_rate.fee_on(new.amount),
            amount: new.amount,
            shipping_cost: new.shipping_cost,
            status: OrderStatus::PendingPayment,
            shipping_address: new.shipping_address,
            tracking_number: None,
            carrier: None,
            escrow_id: None,
            created_at: now,
            paid_at: None,
            shipped_at: None,
            delivered_at: None,
            completed_at: None,
            cancelled_at: None,
            cancellation_reason: None,
            pay_by: terms.deadlines.pay_by(new.source, now),
            ship_by: None,
            ship_overdue_at: None,
            auto_complete_at: None,
            delivery_problem: None,
            ended_at: None,
            erasure_requested_at: None,
            personal_data_erased_at: None,
            status_before_dispute: None,
            dispute: None,
            escrow_intent: None,
        });
        Ok(order.announce(EventType::OrderCreated, now))
    }

    /// Whether this order is what `new` asks for, so that a retried create can be answered
    /// with it instead of a conflict.
    pub fn was_placed_as(&self, new: &NewOrder) -> bool {
        self.listing_id == new.listing_id
            && self.buyer_id == new.buyer_id
            && self.seller_id == new.seller_id
            && self.source == new.source
            && self.amount == new.amount
            && self.shipping_cost == new.shipping_cost
            && self.shipping_address == new.shipping_address
    }

    /// PENDING_PAYMENT → PAID through `escrow_id`, the seller's shipping deadline set.
    /// Raises `order.paid`.
    ///
    /// `Ok(None)` when the order is already paid through this same escrow: a retry that
    /// changes nothing and raises nothing. A cancelled order is refused as such
    /// ([`DomainError::OrderCancelled`]), so that the payer's side knows to give the money
    /// back.
    pub fn mark_paid(
        &self,
        escrow_id: EscrowId,
        deadlines: &Deadlines,
        now: DateTime<Utc>,
    ) -> Result<Option<Changed<Order>>, DomainError> {
        if let Some(paid_with) = self.escrow_id {
            return if paid_with == escrow_id {
                Ok(None)
            } else {
                Err(DomainError::EscrowMismatch)
            };
        }
        if self.status == OrderStatus::Cancelled {
            return Err(DomainError::OrderCancelled);
        }
        let mut order = self.begin(OrderAction::MarkPaid)?;
        let data = order.data_mut();
        data.status = OrderStatus::Paid;
        data.escrow_id = Some(escrow_id);
        data.paid_at = Some(now);
        data.pay_by = None;
        data.ship_by = Some(deadlines.ship_by(now));
        Ok(Some(order.announce(EventType::OrderPaid, now)))
    }

    /// PAID → SHIPPED by its seller, with the parcel's tracking; the buyer's window to
    /// confirm or dispute starts. Raises `order.shipped`.
    pub fn ship(
        &self,
        _by: Seller,
        tracking_number: TrackingNumber,
        carrier: Carrier,
        deadlines: &Deadlines,
        now: DateTime<Utc>,
    ) -> Result<Changed<Order>, DomainError> {
        let mut order = self.begin(OrderAction::Ship)?;
        let data = order.data_mut();
        data.status = OrderStatus::Shipped;
        data.tracking_number = Some(tracking_number);
        data.carrier = Some(carrier);
        data.shipped_at = Some(now);
        data.ship_by = None;
        data.auto_complete_at = Some(deadlines.auto_complete_at(now));
        Ok(order.announce(EventType::OrderShipped, now))
    }

    /// SHIPPED → DELIVERED, at the carrier's `delivered_at` (default: now), which can be
    /// neither before shipping nor in the future. The buyer's window shortens to
    /// [`Deadlines::auto_complete_at_delivery`] if that is earlier; a clock a returned parcel
    /// stopped stays stopped. A delivered parcel has no delivery problem. Raises
    /// `order.delivered`.
    pub fn mark_delivered(
        &self,
        delivered_at: Option<DateTime<Utc>>,
        deadlines: &Deadlines,
        now: DateTime<Utc>,
    ) -> Result<Changed<Order>, DomainError> {
        let mut order = self.begin(OrderAction::MarkDelivered)?;
        let delivered_at = delivered_at.unwrap_or(now);
        if delivered_at > now {
            return Err(DomainError::invalid(
                "delivered_at",
                "Delivery cannot be in the future.",
            ));
        }
        if self
            .shipped_at
            .is_some_and(|shipped| delivered_at < shipped)
        {
            return Err(DomainError::invalid(
                "delivered_at",
                "Delivery cannot be before shipping.",
            ));
        }
        let data = order.data_mut();
        data.status = OrderStatus::Delivered;
        data.delivered_at = Some(delivered_at);
        data.delivery_problem = None;
        data.auto_complete_at = data
            .auto_complete_at
            .map(|due| due.min(deadlines.auto_complete_at_delivery(delivered_at)));
        Ok(order.announce(EventType::OrderDelivered, now))
    }

    /// SHIPPED/DELIVERED → COMPLETED, the buyer having confirmed receipt. The escrow must be
    /// released as [`Order::release_settlement`] says before this change is stored.
    /// Raises `order.completed`.
    pub fn complete(&self, now: DateTime<Utc>) -> Result<Changed<Order>, DomainError> {
        let mut order = self.begin(OrderAction::Complete)?;
        let data = order.data_mut();
        data.end(Ending::Completed, now);
        data.auto_complete_at = None;
        let settlement = order.release_settlement();
        let mut completed = order.announce(EventType::OrderCompleted, now);
        completed.events[0].settlement = Some(settlement);
        Ok(completed)
    }

    /// PENDING_PAYMENT → CANCELLED, for example when an auction's winner never pays.
    /// Raises `order.cancelled`.
    pub fn cancel(
        &self,
        reason: CancellationReason,
        now: DateTime<Utc>,
    ) -> Result<Changed<Order>, DomainError> {
        let mut order = self.begin(OrderAction::Cancel)?;
        let data = order.data_mut();
        data.end(Ending::Cancelled, now);
        data.cancellation_reason = Some(reason);
        data.pay_by = None;
        Ok(order.announce(EventType::OrderCancelled, now))
    }

    /// PENDING_PAYMENT → CANCELLED by the deadline worker: an auction's winner who did not
    /// pay by `pay_by`. Raises `order.cancelled`.
    pub fn expire_payment(&self, now: DateTime<Utc>) -> Result<Changed<Order>, DomainError> {
        match self.pay_by {
            Some(pay_by) if pay_by <= now && self.source == OrderSource::Auction => {
                let reason = CancellationReason::parse(PAYMENT_EXPIRED)?;
                self.cancel(reason, now)
            }
            _ => Err(DomainError::NotYetOverdue),
        }
    }

    /// Announces, once, that the seller let `ship_by` pass with the order still PAID:
    /// the buyer may now cancel it. Raises `order.ship_overdue`; the status is unchanged.
    pub fn flag_ship_overdue(&self, now: DateTime<Utc>) -> Result<Changed<Order>, DomainError> {
        self.idle()?;
        match (self.status, self.ship_by, self.ship_overdue_at) {
            (OrderStatus::Paid, Some(ship_by), None) if ship_by <= now => {}
            _ => return Err(DomainError::NotYetOverdue),
        }
        let mut order = self.clone();
        order.data_mut().ship_overdue_at = Some(now);
        Ok(order.announce(EventType::OrderShipOverdue, now))
    }

    /// How the escrow is paid out when the sale goes through: the seller gets the total
    /// less the fee, the platform the fee.
    pub fn release_settlement(&self) -> Settlement {
        Settlement::release(self.total(), self.fee_amount)
    }

    /// A copy of the order to change by `action`, or the refusal naming the current status.
    /// Refuses every change while a Wallet movement is pending ([`Order::idle`]).
    pub(crate) fn begin(&self, action: OrderAction) -> Result<Order, DomainError> {
        self.idle()?;
        if action.allowed_from().contains(&self.status) {
            Ok(self.clone())
        } else {
            Err(self.refuse(action))
        }
    }

    pub(crate) fn refuse(&self, action: OrderAction) -> DomainError {
        DomainError::InvalidTransition {
            action,
            status: self.status,
        }
    }
}

/// The reason the deadline worker gives an auction order it cancels.
pub const PAYMENT_EXPIRED: &str = "payment window expired";

fn self_purchase() -> DomainError {
    DomainError::invalid("buyer_id", "The buyer cannot be the seller of the listing.")
}
