use order_domain::dispute::{DisputeReason, EvidenceUrl};
use order_domain::order::Changed;
use order_domain::{Dispute, DisputeId, DomainError, Order, OrderId, Parties};
use order_ports::StoreError;

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// PAID/SHIPPED/DELIVERED → DISPUTED, by the buyer or the seller, opening the
    /// order's one dispute.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_dispute(
        &self,
        caller: Caller,
        order_id: OrderId,
        reason: DisputeReason,
        evidence: Vec<EvidenceUrl>,
    ) -> Result<Dispute, AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let opened_by = caller.acting_as(&order, Order::participant)?;
        let id = DisputeId::from_uuid(self.ports.ids.new_id());
        let opened = order.open_dispute(
            id,
            opened_by,
            reason,
            evidence,
            &self.settings.deadlines,
            self.ports.clock.now(),
        )?;
        uow.insert_dispute(&opened.dispute)
            .await
            .map_err(|error| match error {
                StoreError::Conflict(_) => AppError::Domain(DomainError::DisputeExists),
                other => AppError::Store(other),
            })?;
        let changed = Changed {
            value: opened.order,
            events: opened.events,
        };
        self.store_change(uow.as_mut(), order.status, changed, opened_by.into())
            .await?;
        uow.commit().await?;
        Ok(opened.dispute)
    }
}
