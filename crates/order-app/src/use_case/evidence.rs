use order_domain::dispute::EvidenceUrl;
use order_domain::{Dispute, DisputeId};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// Appends evidence URLs to a dispute, by its buyer or seller, while it is OPEN or in
    /// EVIDENCE; the first evidence of the party that did not open it is its answer.
    pub async fn add_evidence(
        &self,
        caller: Caller,
        dispute_id: DisputeId,
        urls: Vec<EvidenceUrl>,
    ) -> Result<Dispute, AppError> {
        let mut uow = self.begin().await?;
        let dispute = uow
            .lock_dispute(dispute_id)
            .await?
            .ok_or(AppError::NotFound)?;
        caller.require_sees_dispute(&dispute)?;
        let by = caller
            .user_id()
            .filter(|id| dispute.is_party(*id))
            .ok_or(AppError::Forbidden)?;
        let updated = dispute.add_evidence(urls, by, self.ports.clock.now())?;
        uow.update_dispute(&updated).await?;
        uow.commit().await?;
        Ok(updated)
    }
}
