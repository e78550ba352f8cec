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
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let changed = order.mark_delivered(
            delivered_at,
            &self.settings.deadlines,
            self.ports.clock.now(),
        )?;
        let delivered = self
            .store_change(uow.as_mut(), order.status, changed, Actor::Service)
            .await?;
        uow.commit().await?;
        Ok(delivered)
    }
}
