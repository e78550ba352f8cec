use order_domain::order::{Movement, NewOrder, OrderSource, ShippingAddress};
use order_domain::{Actor, DomainError, ListingId, Order, OrderId, OrderStatus, UserId};
use order_ports::StoreError;

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
    /// Created and not yet paid: this purchase carries on with its payment.
    Pending(Movement),
    /// Already paid (or beyond) by an earlier request.
    Finished(Order),
}

impl OrderService {
    /// Buys a listing at its Buy It Now price: creates the order, holds the total in
    /// escrow and marks the order PAID.
    ///
    /// A declined payment cancels the order (`PaymentDeclined`). If the wallet is down the
    /// order stays PENDING_PAYMENT with its payment recorded, and the buyer's retry (or the
    /// intent worker) resumes it: the hold's idempotency key comes from the order, so the
    /// buyer is never charged twice. A second buyer of the same listing gets a conflict.
    #[tracing::instrument(level = "debug", skip_all)]
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
        let actor = match caller {
            Caller::User { id, .. } => Actor::Buyer(id),
            Caller::Service => Actor::Service,
        };
        match self.underway_purchase(&new, actor).await? {
            Underway::Finished(order) => Ok(Placed {
                order,
                created: false,
            }),
            Underway::Pending(movement) => self.pay(&movement).await.map(|order| Placed {
                order,
                created: true,
            }),
        }
    }

    /// This buyer's Buy It Now order of the listing, created now if there is none, with its
    /// payment recorded as the order's escrow intent. It is committed before any money
    /// moves, so that a retry after a wallet failure finds it and holds with the same key.
    async fn underway_purchase(&self, new: &NewOrder, actor: Actor) -> Result<Underway, AppError> {
        let resume_after = self.settings.resume_after;
        // The second round is for the request that lost an insert race.
        for _ in 0..2 {
            let mut uow = self.begin().await?;
            match uow.lock_live_order_for_listing(new.listing_id).await? {
                Some(order)
                    if order.buyer_id == new.buyer_id && order.source == OrderSource::BuyNow =>
                {
                    if order.status != OrderStatus::PendingPayment {
                        return Ok(Underway::Finished(order));
                    }
                    let request = order.request_payment(self.ports.clock.now(), resume_after)?;
                    let recorded = self.record_intent(uow, &order, request).await?;
                    return Ok(Underway::Pending(recorded));
                }
                Some(_) => return Err(sold()),
                None => {}
            }
            let id = OrderId::from_uuid(self.ports.ids.new_id());
            let now = self.ports.clock.now();
            let placed = Order::place(id, new.clone(), &self.settings.terms(), now)?;
            // A new order has no intent yet: this one is freshly recorded.
            let movement = placed
                .value
                .request_payment(now, resume_after)?
                .into_movement();
            // The store may send the insert with a later call: a lost race to another
            // buyer's order of the listing can come from any of them.
            let stored = async {
                uow.insert_order(&movement.order).await?;
                self.append_events(
                    uow.as_mut(),
                    &placed.events,
                    actor,
                    OrderStatus::PendingPayment,
                )
                .await?;
                Ok::<(), AppError>(uow.commit().await?)
            };
            match stored.await {
                Err(AppError::Store(StoreError::Conflict(_))) => continue,
                other => other?,
            }
            return Ok(Underway::Pending(movement));
        }
        Err(sold())
    }

    /// Holds the order's total and marks it PAID, or cancels it if the buyer cannot pay
    /// (`PaymentDeclined`). The hold is made with nothing locked; a retry or the intent
    /// worker racing it makes the same call with the same key and finds the outcome.
    async fn pay(&self, movement: &Movement) -> Result<Order, AppError> {
        let settled = self.carry_out(movement).await?;
        if settled.order.status == OrderStatus::Cancelled {
            return Err(AppError::PaymentDeclined);
        }
        Ok(settled.order)
    }
}

fn sold() -> AppError {
    AppError::Conflict {
        code: "listing_sold",
        detail: "This listing has already been bought.".into(),
    }
}
