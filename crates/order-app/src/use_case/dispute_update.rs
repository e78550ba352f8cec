use order_domain::dispute::DisputeUpdate;
use order_domain::order::DisputeChange;
use order_domain::{Dispute, DisputeId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// An admin's update of a dispute: notes, status, and the resolution with its effects.
    ///
    /// The order is locked before the dispute (the order every use case locks in). An
    /// update that moves no money is stored at once. A resolution that does is recorded as
    /// the order's escrow intent and carried out with nothing locked (the money driver); if the
    /// Wallet fails, the answer is 503 and neither order nor dispute shows a change.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_dispute(
        &self,
        caller: Caller,
        dispute_id: DisputeId,
        update: DisputeUpdate,
    ) -> Result<Dispute, AppError> {
        let mut uow = self.begin().await?;
        let (order, dispute) = Self::lock_dispute(uow.as_mut(), dispute_id).await?;
        caller.require_sees_dispute(&dispute)?;
        let admin = caller.require_admin()?;
        let change = order.request_resolution(
            &dispute,
            update,
            admin,
            &self.settings.terms(),
            self.ports.clock.now(),
            self.settings.resume_after,
        )?;
        match change {
            DisputeChange::Decided(decision) => {
                if decision.dispute != dispute {
                    uow.update_dispute(&decision.dispute).await?;
                }
                if let Some(settled) = &decision.order {
                    uow.update_order(settled, order.status).await?;
                }
                self.append_events(uow.as_mut(), &decision.events, admin.into(), order.status)
                    .await?;
                uow.commit().await?;
                Ok(decision.dispute)
            }
            DisputeChange::Movement(request) => {
                self.drive(uow, &order, request).await?.resolved_dispute()
            }
        }
    }
}
