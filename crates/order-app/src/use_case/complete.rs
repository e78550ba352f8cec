use order_domain::{Order, OrderId, Parties};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// SHIPPED/DELIVERED → COMPLETED by the buyer, once the Wallet released the escrow.
    ///
    /// Recorded before the Wallet is called, the release makes a dispute racing with the
    /// confirmation refused (`operation_in_progress`) instead of disputing an order whose
    /// money is on its way to the seller.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn complete(&self, caller: Caller, order_id: OrderId) -> Result<Order, AppError> {
        self.move_money(order_id, |order, now, resume_after| {
            let buyer = caller.acting_as(order, Order::buyer)?;
            Ok(order.request_completion(buyer, now, resume_after)?)
        })
        .await
    }
}
