use chrono::{DateTime, Utc};
use order_domain::{Actor, Order, OrderId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// SHIPPED → DELIVERED, on the carrier's confirmation relayed by a service.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mark_delivered(
        &self,
        caller: Caller,
        order_id: OrderId,
        delivered_at: Option<DateTime<Utc>>,
    ) -> Result<Order, AppError> {
        caller.require_service()?;
        self.change_order(order_id, |order, now| {
            let changed = order.mark_delivered(delivered_at, &self.settings.deadlines, now)?;
            Ok(Some((changed, Actor::Service)))
        })
        .await
    }
}
