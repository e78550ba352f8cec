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
        self.change_order(order_id, |order, now| {
            let paid = order.mark_paid(escrow_id, &self.settings.deadlines, now)?;
            Ok(paid.map(|changed| (changed, Actor::Service)))
        })
        .await
    }
}
