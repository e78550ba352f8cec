use order_domain::dispute::EvidenceUrl;
use order_domain::{Dispute, DisputeId, Parties};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// Appends evidence URLs to a dispute, by its buyer or seller, while it is OPEN or in
    /// EVIDENCE; the first evidence of the party that did not open it is its answer.
    /// Raises `dispute.evidence_added`, numbered in the order's sequence, so the order is
    /// locked first, as every use case locks it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_evidence(
        &self,
        caller: Caller,
        dispute_id: DisputeId,
        urls: Vec<EvidenceUrl>,
    ) -> Result<Dispute, AppError> {
        self.change_dispute(dispute_id, |order, dispute, now| {
            let by = caller.acting_as(dispute, Dispute::participant)?;
            let added = dispute.add_evidence(order.idle()?, urls, by, now)?;
            Ok((added, by.into()))
        })
        .await
    }
}
