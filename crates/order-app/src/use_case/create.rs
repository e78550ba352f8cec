use order_domain::order::{NewOrder, OrderSource, ShippingAddress};
use order_domain::{Actor, ListingId, Money, Order, OrderId, OrderStatus, UserId};
use order_ports::StoreError;

use super::Placed;
use crate::{AppError, Caller, OrderService};

/// An auction's close, as the Auction service reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuctionWin {
    pub listing_id: ListingId,
    pub buyer_id: UserId,
    pub seller_id: UserId,
    pub amount: Money,
    pub shipping_cost: Money,
    pub shipping_address: ShippingAddress,
}

impl OrderService {
    /// Creates the order of an auction's winner, PENDING_PAYMENT. A retry with the same
    /// content answers the existing order and raises nothing; other content conflicts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_auction_order(
        &self,
        caller: Caller,
        win: AuctionWin,
    ) -> Result<Placed, AppError> {
        caller.require_service()?;
        let new = NewOrder {
            listing_id: win.listing_id,
            buyer_id: win.buyer_id,
            seller_id: win.seller_id,
            source: OrderSource::Auction,
            amount: win.amount,
            shipping_cost: win.shipping_cost,
            shipping_address: win.shipping_address,
        };
        // The second round is for the request that lost an insert race to an identical one.
        for _ in 0..2 {
            match self.place_unless_exists(&new).await {
                Err(AppError::Store(StoreError::Conflict(_))) => continue,
                outcome => return outcome,
            }
        }
        Err(listing_taken())
    }

    async fn place_unless_exists(&self, new: &NewOrder) -> Result<Placed, AppError> {
        let mut uow = self.begin().await?;
        if let Some(existing) = uow.lock_live_order_for_listing(new.listing_id).await? {
            return if existing.was_placed_as(new) {
                Ok(Placed {
                    order: existing,
                    created: false,
                })
            } else {
                Err(listing_taken())
            };
        }
        let id = OrderId::from_uuid(self.ports.ids.new_id());
        let placed = Order::place(
            id,
            new.clone(),
            &self.settings.terms(),
            self.ports.clock.now(),
        )?;
        uow.insert_order(&placed.value).await?;
        self.append_events(
            uow.as_mut(),
            &placed.events,
            Actor::Service,
            OrderStatus::PendingPayment,
        )
        .await?;
        uow.commit().await?;
        Ok(Placed {
            order: placed.value,
            created: true,
        })
    }
}

fn listing_taken() -> AppError {
    AppError::Conflict {
        code: "order_exists",
        detail: "This listing already has an order with other content.".into(),
    }
}
