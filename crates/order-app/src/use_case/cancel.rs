use order_domain::order::CancellationReason;
use order_domain::{Order, OrderId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// PENDING_PAYMENT → CANCELLED, for example an auction whose winner never paid.
    pub async fn cancel(
        &self,
        caller: Caller,
        order_id: OrderId,
        reason: CancellationReason,
    ) -> Result<Order, AppError> {
        caller.require_service()?;
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let changed = order.cancel(reason, self.ports.clock.now())?;
        let cancelled = self
            .store_change(uow.as_mut(), order.status, changed)
            .await?;
        uow.commit().await?;
        Ok(cancelled)
    }
}
