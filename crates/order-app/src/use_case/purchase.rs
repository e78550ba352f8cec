use order_domain::order::{CancellationReason, NewOrder, OrderSource, ShippingAddress};
use order_domain::{DomainError, ListingId, Order, OrderId, OrderStatus, UserId};
use order_ports::{HoldEscrow, StoreError, WalletError};

use super::Placed;
use crate::{AppError, Caller, OrderService};

/// A Buy It Now click.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purchase {
    pub listing_id: ListingId,
    /// Required when a service buys on a user's behalf; a user buys for themselves.
    pub buyer_id: Option<UserId>,
    pub shipping_address: ShippingAddress,
}

/// A Buy It Now order of this buyer found for the listing.
enum Underway {
    /// Created and not yet paid: this purchase carries on with it.
    Pending(Order),
    /// Already paid (or beyond) by an earlier request.
    Finished(Order),
}

impl OrderService {
    /// Buys a listing at its Buy It Now price: creates the order, holds the total in
    /// escrow and marks the order PAID.
    ///
    /// A declined payment cancels the order (`PaymentDeclined`). If the wallet is down the
    /// order stays PENDING_PAYMENT, and the buyer's retry resumes it: the hold's
    /// idempotency key comes from the order, so the buyer is never charged twice. A second
    /// buyer of the same listing gets a conflict.
    pub async fn purchase(&self, caller: Caller, purchase: Purchase) -> Result<Placed, AppError> {
        let buyer_id = match (caller, purchase.buyer_id) {
            (Caller::User { id, .. }, Some(other)) if other != id => {
                return Err(AppError::Forbidden)
            }
            (Caller::User { id, .. }, _) => id,
            (Caller::Service, Some(buyer_id)) => buyer_id,
            (Caller::Service, None) => {
                return Err(DomainError::invalid("buyer_id", "This field is required.").into())
            }
        };
        let listing = self
            .ports
            .listings
            .listing(purchase.listing_id)
            .await
            .map_err(AppError::from_listing)?;
        let new = NewOrder::buy_now(&listing, buyer_id, purchase.shipping_address)?;
        match self.underway_purchase(&new).await? {
            Underway::Finished(order) => Ok(Placed {
                order,
                created: false,
            }),
            Underway::Pending(order) => self.pay(order.id).await.map(|order| Placed {
                order,
                created: true,
            }),
        }
    }

    /// This buyer's Buy It Now order of the listing, created now if there is none. It is
    /// committed before any money moves, so that a retry after a wallet failure finds it.
    async fn underway_purchase(&self, new: &NewOrder) -> Result<Underway, AppError> {
        // The second round is for the request that lost an insert race.
        for _ in 0..2 {
            let mut uow = self.begin().await?;
            match uow.lock_live_order_for_listing(new.listing_id).await? {
                Some(order)
                    if order.buyer_id == new.buyer_id && order.source == OrderSource::BuyNow =>
                {
                    return Ok(if order.status == OrderStatus::PendingPayment {
                        Underway::Pending(order)
                    } else {
                        Underway::Finished(order)
                    });
                }
                Some(_) => return Err(sold()),
                None => {}
            }
            let id = OrderId::from_uuid(self.ports.ids.new_id());
            let placed = Order::place(
                id,
                new.clone(),
                self.settings.fee_rate,
                self.ports.clock.now(),
            )?;
            match uow.insert_order(&placed.value).await {
                Err(StoreError::Conflict(_)) => continue,
                other => other?,
            }
            self.append_events(uow.as_mut(), &placed.events).await?;
            uow.commit().await?;
            return Ok(Underway::Pending(placed.value));
        }
        Err(sold())
    }

    /// Holds the order's total and marks it PAID, or cancels it if the buyer cannot pay.
    /// The order stays locked during the hold, so a concurrent retry or cancellation waits
    /// for the outcome instead of racing the money.
    async fn pay(&self, order_id: OrderId) -> Result<Order, AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        if order.status != OrderStatus::PendingPayment {
            return Ok(order);
        }
        let hold = HoldEscrow {
            order_id: order.id,
            buyer_id: order.buyer_id,
            amount: order.total(),
        };
        match self.ports.wallet.hold_escrow(hold).await {
            Ok(escrow_id) => {
                let paid = order
                    .mark_paid(escrow_id, self.ports.clock.now())?
                    .expect("an unpaid order is never a mark-paid replay");
                let paid = self.store_change(uow.as_mut(), order.status, paid).await?;
                uow.commit().await?;
                Ok(paid)
            }
            Err(WalletError::InsufficientFunds) => {
                let reason = CancellationReason::parse("Payment declined: insufficient funds.")?;
                let cancelled = order.cancel(reason, self.ports.clock.now())?;
                self.store_change(uow.as_mut(), order.status, cancelled)
                    .await?;
                uow.commit().await?;
                Err(AppError::PaymentDeclined)
            }
            Err(other) => Err(AppError::from_wallet(other)),
        }
    }
}

fn sold() -> AppError {
    AppError::Conflict {
        code: "listing_sold",
        detail: "This listing has already been bought.".into(),
    }
}
