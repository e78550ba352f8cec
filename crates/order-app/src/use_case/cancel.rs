use order_domain::order::{AdminCancellation, CancellationReason};
use order_domain::{Actor, Order, OrderId, Parties};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// PENDING_PAYMENT → CANCELLED by a service, for example an auction whose winner never
    /// paid.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cancel(
        &self,
        caller: Caller,
        order_id: OrderId,
        reason: CancellationReason,
    ) -> Result<Order, AppError> {
        caller.require_service()?;
        self.change_order(order_id, |order, now| {
            Ok(Some((order.cancel(reason, now)?, Actor::Service)))
        })
        .await
    }
}

impl OrderService {
    /// A user calls an order off. A party cancels a PAID order: the seller before
    /// shipping, or the buyer once the seller let `ship_by` pass. An admin cancels a
    /// PENDING_PAYMENT or PAID order whose dispute is not open. A paid order's whole escrow
    /// goes back to the buyer first, through the money driver: a refund is made once,
    /// however often it is asked.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cancel_by_user(
        &self,
        caller: Caller,
        order_id: OrderId,
        reason: CancellationReason,
    ) -> Result<Order, AppError> {
        if let Some(admin) = caller.as_admin() {
            let mut uow = self.begin().await?;
            let order = Self::lock_order(uow.as_mut(), order_id).await?;
            let now = self.ports.clock.now();
            let resume_after = self.settings.resume_after;
            return match order.cancel_as_admin(admin, reason, now, resume_after)? {
                AdminCancellation::Cancelled(changed) => {
                    let cancelled = self
                        .store_change(uow.as_mut(), order.status, changed, admin.into())
                        .await?;
                    uow.commit().await?;
                    Ok(cancelled)
                }
                AdminCancellation::Refunding(request) => {
                    Ok(self.drive(uow, &order, request).await?.order)
                }
            };
        }
        self.move_money(order_id, |order, now, resume_after| {
            let by = caller.acting_as(order, Order::participant)?;
            Ok(order.request_cancellation(by, reason, now, resume_after)?)
        })
        .await
    }
}
