use order_domain::order::Party;
use order_domain::{Order, OrderId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// SHIPPED/DELIVERED → COMPLETED by the buyer, once the Wallet released the escrow.
    ///
    /// The release is recorded first, so that a dispute racing with the confirmation is
    /// refused (`operation_in_progress`) instead of disputing an order whose money is on
    /// its way to the seller; then the Wallet is called with nothing locked. If the Wallet
    /// cannot be reached the answer is 503 and the order is unchanged; the buyer's retry,
    /// or the intent worker, finishes the release with the same key.
    pub async fn complete(&self, caller: Caller, order_id: OrderId) -> Result<Order, AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        caller.require_party(&order, Party::Buyer)?;
        let request =
            order.request_completion(self.ports.clock.now(), self.settings.resume_after)?;
        let recorded = self.record_intent(uow, &order, request).await?;
        Ok(self.carry_out(&recorded).await?.order)
    }
}
