use order_domain::order::{Carrier, Party, TrackingNumber};
use order_domain::{Actor, Order, OrderId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// PAID → SHIPPED, by the order's seller.
    pub async fn ship(
        &self,
        caller: Caller,
        order_id: OrderId,
        tracking_number: TrackingNumber,
        carrier: Carrier,
    ) -> Result<Order, AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let seller = caller.require_party(&order, Party::Seller)?;
        let changed = order.ship(
            tracking_number,
            carrier,
            &self.settings.deadlines,
            self.ports.clock.now(),
        )?;
        let shipped = self
            .store_change(uow.as_mut(), order.status, changed, Actor::Seller(seller))
            .await?;
        uow.commit().await?;
        Ok(shipped)
    }
}
