use order_domain::{Actor, EscrowId, Order, OrderId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// PENDING_PAYMENT → PAID once the Wallet holds the escrow. The same escrow again
    /// answers the order unchanged, with no second event; another escrow conflicts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mark_paid(
        &self,
        caller: Caller,
        order_id: OrderId,
        escrow_id: EscrowId,
    ) -> Result<Order, AppError> {
        caller.require_service()?;
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let Some(changed) =
            order.mark_paid(escrow_id, &self.settings.deadlines, self.ports.clock.now())?
        else {
            return Ok(order);
        };
        let paid = self
            .store_change(uow.as_mut(), order.status, changed, Actor::Service)
            .await?;
        uow.commit().await?;
        Ok(paid)
    }
}
