use order_domain::order::{Carrier, TrackingNumber};
use order_domain::{Order, OrderId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// PAID → SHIPPED, by the order's seller.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ship(
        &self,
        caller: Caller,
        order_id: OrderId,
        tracking_number: TrackingNumber,
        carrier: Carrier,
    ) -> Result<Order, AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let seller = caller.acting_as(&order, Order::seller)?;
        let changed = order.ship(
            seller,
            tracking_number,
            carrier,
            &self.settings.deadlines,
            self.ports.clock.now(),
        )?;
        let shipped = self
            .store_change(uow.as_mut(), order.status, changed, seller.into())
            .await?;
        uow.commit().await?;
        Ok(shipped)
    }
}
