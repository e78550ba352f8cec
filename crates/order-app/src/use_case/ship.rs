use order_domain::order::{Carrier, TrackingNumber};
use order_domain::{Order, OrderId, Parties};

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
        self.change_order(order_id, |order, now| {
            let seller = caller.acting_as(order, Order::seller)?;
            let deadlines = &self.settings.deadlines;
            let changed = order.ship(seller, tracking_number, carrier, deadlines, now)?;
            Ok(Some((changed, seller.into())))
        })
        .await
    }
}
