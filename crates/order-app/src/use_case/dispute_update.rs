use order_domain::dispute::{DisputeUpdate, Payout};
use order_domain::{Dispute, DisputeId, Order};
use order_ports::RefundEscrow;

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// An admin's update of a dispute: notes, status, and the resolution with its effects.
    ///
    /// The order is locked before the dispute (the order every use case locks in), and
    /// stays locked while the wallet moves the money, so a resolution is applied once. If
    /// the wallet fails, nothing changes.
    pub async fn update_dispute(
        &self,
        caller: Caller,
        dispute_id: DisputeId,
        update: DisputeUpdate,
    ) -> Result<Dispute, AppError> {
        let seen = self
            .ports
            .store
            .dispute(dispute_id)
            .await?
            .ok_or(AppError::NotFound)?;
        caller.require_sees_dispute(&seen)?;
        caller.require_admin()?;

        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), seen.order_id).await?;
        let dispute = uow
            .lock_dispute(dispute_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let decision = dispute.update(
            &order,
            update,
            self.settings.fee_rate,
            self.ports.clock.now(),
        )?;
        if let Some(payout) = decision.payout {
            self.pay_out(&order, &dispute, payout).await?;
        }
        if decision.dispute != dispute {
            uow.update_dispute(&decision.dispute).await?;
        }
        if let Some(settled) = &decision.order {
            uow.update_order(settled, order.status).await?;
        }
        self.append_events(uow.as_mut(), &decision.events).await?;
        uow.commit().await?;
        Ok(decision.dispute)
    }

    async fn pay_out(
        &self,
        order: &Order,
        dispute: &Dispute,
        payout: Payout,
    ) -> Result<(), AppError> {
        match payout {
            Payout::Release(_) => self.release_escrow(order).await,
            Payout::Refund(settlement) => {
                let request = RefundEscrow {
                    escrow_id: order.escrow_id.expect("a disputed order has been paid"),
                    order_id: order.id,
                    dispute_id: dispute.id,
                    buyer_id: order.buyer_id,
                    refund_amount: settlement.buyer_refund(),
                    seller_id: order.seller_id,
                    seller_amount: settlement.seller_amount(),
                    fee_amount: settlement.fee_amount(),
                };
                self.ports
                    .wallet
                    .refund_escrow(request)
                    .await
                    .map_err(AppError::from_wallet)
            }
        }
    }
}
