use order_domain::order::CancellationReason;
use order_domain::{Actor, Order, OrderId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// PENDING_PAYMENT → CANCELLED by a service, for example an auction whose winner never
    /// paid.
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
            .store_change(uow.as_mut(), order.status, changed, Actor::Service)
            .await?;
        uow.commit().await?;
        Ok(cancelled)
    }
}

impl OrderService {
    /// PAID → CANCELLED by a party: the seller before shipping, or the buyer once the
    /// seller let `ship_by` pass. The whole escrow goes back to the buyer first, in the
    /// three steps every money movement takes (see `escrow`): a Wallet failure answers 503
    /// and changes nothing the caller sees, and a retry — with or without the same
    /// Idempotency-Key — refunds once, with the key derived from the order.
    pub async fn cancel_paid(
        &self,
        caller: Caller,
        order_id: OrderId,
        reason: CancellationReason,
    ) -> Result<Order, AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let (_, party) = caller.require_participant(&order)?;
        let request = order.request_cancellation(
            party,
            reason,
            self.ports.clock.now(),
            self.settings.resume_after,
        )?;
        let recorded = self.record_intent(uow, &order, request).await?;
        Ok(self.carry_out(&recorded).await?.order)
    }
}
