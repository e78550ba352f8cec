use order_domain::dispute::EvidenceUrl;
use order_domain::{Dispute, DisputeId};

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
        let mut uow = self.begin().await?;
        let (order, dispute) = uow
            .lock_dispute_with_order(dispute_id)
            .await?
            .ok_or(AppError::NotFound)?;
        caller.require_sees_dispute(&dispute)?;
        let by = caller
            .user_id()
            .and_then(|id| dispute.participant(id))
            .ok_or(AppError::Forbidden)?;
        let added = dispute.add_evidence(&order, urls, by, self.ports.clock.now())?;
        uow.update_dispute(&added.value).await?;
        self.append_events(uow.as_mut(), &added.events, by.into(), order.status)
            .await?;
        uow.commit().await?;
        Ok(added.value)
    }
}
