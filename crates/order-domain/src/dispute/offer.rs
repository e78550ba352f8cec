//! Settlement offers: the seller offers the buyer a refund, and the buyer's acceptance
//! resolves the dispute exactly as an admin's PARTIAL_REFUND (or REFUND_BUYER, for the whole
//! total) would — the same money, statuses and events — with the buyer as the one who
//! decided. One offer is pending at a time: a new one, or any resolution, withdraws it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Dispute, DisputeStatus};
use crate::caller::{Buyer, Seller};
use crate::error::DomainError;
use crate::event::{DomainEvent, EventType};
use crate::id::OfferId;
use crate::money::Money;
use crate::order::{Changed, IdleOrder, Order};

/// Where an offer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OfferStatus {
    /// Waiting for the buyer.
    Pending,
    /// The buyer accepted it: the dispute was resolved with it.
    Accepted,
    /// The buyer declined it.
    Declined,
    /// A newer offer or a resolution replaced it.
    Withdrawn,
}

/// A seller's offer to end a dispute: `refund_amount` back to the buyer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offer {
    /// The offer's id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: OfferId,
    /// What the buyer would get back: above 0, at most the order's total.
    pub refund_amount: Money,
    /// Where it stands.
    pub status: OfferStatus,
    /// When the seller made it.
    pub created_at: DateTime<Utc>,
    /// When it was accepted, declined or withdrawn.
    pub decided_at: Option<DateTime<Utc>>,
}

impl DisputeStatus {
    /// Whether the seller may still make an offer.
    pub const fn takes_offers(self) -> bool {
        matches!(
            self,
            DisputeStatus::Open | DisputeStatus::Evidence | DisputeStatus::Review
        )
    }
}

impl Dispute {
    /// The most offers one dispute takes, so that a seller cannot flood the buyer.
    pub const MAX_OFFERS: usize = 20;

    /// The offer waiting for the buyer, if any.
    pub fn pending_offer(&self) -> Option<&Offer> {
        self.offers
            .iter()
            .find(|offer| offer.status == OfferStatus::Pending)
    }

    /// The seller offers `refund_amount` (above 0, at most the total of `order`, the
    /// disputed order) while the dispute is OPEN, EVIDENCE or REVIEW; the pending offer, if
    /// any, is withdrawn. Raises `dispute.offer_made`.
    pub fn make_offer(
        &self,
        order: IdleOrder<'_>,
        _by: Seller,
        id: OfferId,
        refund_amount: Money,
        now: DateTime<Utc>,
    ) -> Result<Changed<Dispute>, DomainError> {
        let order = order.order();
        self.check_offers_open()?;
        if refund_amount == Money::ZERO || refund_amount > order.total() {
            return Err(DomainError::invalid(
                "refund_amount",
                format!(
                    "Enter an amount above 0.00 and at most the order's total, {}.",
                    order.total()
                ),
            ));
        }
        let mut dispute = self.withdrawn_offer(now);
        let offer = Offer {
            id,
            refund_amount,
            status: OfferStatus::Pending,
            created_at: now,
            decided_at: None,
        };
        dispute.0.offers.push(offer);
        dispute.0.updated_at = now;
        Ok(dispute.announcing(EventType::DisputeOfferMade, order, offer, now))
    }

    /// The buyer declines the pending offer `id`. Raises `dispute.offer_declined`.
    ///
    /// `order` is idle: with a payout in flight this is refused before it gets here, as
    /// that payout may be this very offer's acceptance, whose money the Wallet may already
    /// have moved.
    pub fn decline_offer(
        &self,
        order: IdleOrder<'_>,
        _by: Buyer,
        id: OfferId,
        now: DateTime<Utc>,
    ) -> Result<Changed<Dispute>, DomainError> {
        let order = order.order();
        self.pending(id)?;
        let mut dispute = self.clone();
        let mut declined = None;
        for offer in dispute.0.offers.iter_mut().filter(|offer| offer.id == id) {
            offer.status = OfferStatus::Declined;
            offer.decided_at = Some(now);
            declined = Some(*offer);
        }
        dispute.0.updated_at = now;
        let declined = declined.ok_or(DomainError::OfferNotFound)?;
        Ok(dispute.announcing(EventType::DisputeOfferDeclined, order, declined, now))
    }

    /// The pending offer `id`: [`DomainError::OfferNotFound`] for an unknown one,
    /// [`DomainError::OfferNotPending`] for one already decided.
    pub fn pending(&self, id: OfferId) -> Result<&Offer, DomainError> {
        let offer = self
            .offers
            .iter()
            .find(|offer| offer.id == id)
            .ok_or(DomainError::OfferNotFound)?;
        if offer.status == OfferStatus::Pending {
            Ok(offer)
        } else {
            Err(DomainError::OfferNotPending {
                status: offer.status,
            })
        }
    }

    /// Whether the seller may make an offer now, as far as the dispute alone can tell.
    pub(crate) fn check_offers_open(&self) -> Result<(), DomainError> {
        if !self.status.takes_offers() {
            return Err(DomainError::OffersClosed {
                status: self.status,
            });
        }
        if self.offers.len() >= Dispute::MAX_OFFERS {
            return Err(DomainError::invalid(
                "non_field_errors",
                format!(
                    "This dispute has had {} offers; no more can be made.",
                    Dispute::MAX_OFFERS
                ),
            ));
        }
        Ok(())
    }

    /// This dispute with its pending offer withdrawn at `now`.
    pub(crate) fn withdrawn_offer(&self, now: DateTime<Utc>) -> Dispute {
        self.deciding_offers(None, now)
    }

    /// This dispute as its resolution leaves the offers: `accepted` (when an offer's
    /// acceptance resolved it) ACCEPTED, any other pending one WITHDRAWN.
    pub(crate) fn deciding_offers(&self, accepted: Option<OfferId>, now: DateTime<Utc>) -> Dispute {
        let mut dispute = self.clone();
        for offer in &mut dispute.0.offers {
            if offer.status == OfferStatus::Pending {
                offer.status = if Some(offer.id) == accepted {
                    OfferStatus::Accepted
                } else {
                    OfferStatus::Withdrawn
                };
                offer.decided_at = Some(now);
            }
        }
        dispute
    }

    fn announcing(
        self,
        event_type: EventType,
        order: &Order,
        offer: Offer,
        now: DateTime<Utc>,
    ) -> Changed<Dispute> {
        let mut event = DomainEvent::new(event_type, now, order.clone(), Some(self.clone()));
        event.offer = Some(offer);
        Changed {
            value: self,
            events: vec![event],
        }
    }
}
