//! Settlement offers: the seller offers, the buyer accepts or declines. An accepted offer
//! resolves the dispute through the money driver, exactly as an admin's resolution would.

use order_domain::dispute::Offer;
use order_domain::{Dispute, DisputeId, Money, OfferId, Parties};

use crate::{AppError, Caller, OrderService};

impl OrderService {
    /// The order's seller offers the buyer `refund_amount` while the dispute is OPEN,
    /// EVIDENCE or REVIEW; a pending offer is withdrawn. Raises `dispute.offer_made`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn make_offer(
        &self,
        caller: Caller,
        dispute_id: DisputeId,
        refund_amount: Money,
    ) -> Result<Offer, AppError> {
        let made = self
            .change_dispute(dispute_id, |order, dispute, now| {
                let seller = caller.acting_as(dispute, Dispute::seller)?;
                let id = OfferId::from_uuid(self.ports.ids.new_id());
                let made = dispute.make_offer(order.idle()?, seller, id, refund_amount, now)?;
                Ok((made, seller.into()))
            })
            .await?;
        made.offers
            .last()
            .copied()
            .ok_or(AppError::Domain(order_domain::DomainError::OfferNotFound))
    }

    /// The order's buyer accepts the pending offer `offer_id`: the dispute is resolved as an
    /// admin's PARTIAL_REFUND (REFUND_BUYER for the whole total) would, the buyer as the one
    /// who decided, once the Wallet has refunded.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn accept_offer(
        &self,
        caller: Caller,
        dispute_id: DisputeId,
        offer_id: OfferId,
    ) -> Result<Dispute, AppError> {
        let mut uow = self.begin().await?;
        let (order, dispute) = Self::lock_dispute(uow.as_mut(), dispute_id).await?;
        let buyer = caller.acting_as(&dispute, Dispute::buyer)?;
        let request = order.request_offer_acceptance(
            &dispute,
            buyer,
            offer_id,
            &self.settings.terms(),
            self.ports.clock.now(),
            self.settings.resume_after,
        )?;
        self.drive(uow, &order, request).await?.resolved_dispute()
    }

    /// The order's buyer declines the pending offer `offer_id`. Raises
    /// `dispute.offer_declined`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decline_offer(
        &self,
        caller: Caller,
        dispute_id: DisputeId,
        offer_id: OfferId,
    ) -> Result<Dispute, AppError> {
        self.change_dispute(dispute_id, |order, dispute, now| {
            let buyer = caller.acting_as(dispute, Dispute::buyer)?;
            let declined = dispute.decline_offer(order.idle()?, buyer, offer_id, now)?;
            Ok((declined, buyer.into()))
        })
        .await
    }
}
