use order_domain::dispute::EvidenceUrl;
use order_domain::{Actor, Dispute, DisputeId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// Appends evidence URLs to a dispute, by its buyer or seller, while it is OPEN or in
    /// EVIDENCE; the first evidence of the party that did not open it is its answer.
    /// Raises `dispute.evidence_added`, numbered in the order's sequence, so the order is
    /// locked first, as every use case locks it.
    pub async fn add_evidence(
        &self,
        caller: Caller,
        dispute_id: DisputeId,
        urls: Vec<EvidenceUrl>,
    ) -> Result<Dispute, AppError> {
        let seen = self
            .ports
            .store
            .dispute(dispute_id)
            .await?
            .ok_or(AppError::NotFound)?;
        caller.require_sees_dispute(&seen)?;
        let by = caller
            .user_id()
            .filter(|id| seen.is_party(*id))
            .ok_or(AppError::Forbidden)?;
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), seen.order_id).await?;
        let dispute = uow
            .lock_dispute(dispute_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let added = dispute.add_evidence(&order, urls, by, self.ports.clock.now())?;
        uow.update_dispute(&added.value).await?;
        let actor = Actor::user(&order, by);
        self.append_events(uow.as_mut(), &added.events, actor, order.status)
            .await?;
        uow.commit().await?;
        Ok(added.value)
    }
}
