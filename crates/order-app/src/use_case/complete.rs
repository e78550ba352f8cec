use order_domain::order::Party;
use order_domain::{Order, OrderId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// SHIPPED/DELIVERED → COMPLETED by the buyer: the escrow is released first, and if
    /// the wallet fails nothing changes.
    ///
    /// The order stays locked while the wallet is called, so that a dispute racing with
    /// the confirmation waits and then finds the order COMPLETED, instead of disputing an
    /// order whose money has already gone.
    pub async fn complete(&self, caller: Caller, order_id: OrderId) -> Result<Order, AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        caller.require_party(&order, Party::Buyer)?;
        let changed = order.complete(self.ports.clock.now())?;
        self.release_escrow(&order).await?;
        let completed = self
            .store_change(uow.as_mut(), order.status, changed)
            .await?;
        uow.commit().await?;
        Ok(completed)
    }
}
