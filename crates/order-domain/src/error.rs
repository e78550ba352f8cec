use std::fmt;

use crate::dispute::DisputeStatus;
use crate::order::{OrderAction, OrderStatus};

/// Why the domain refused a change. Each variant says enough for the caller to tell the user
/// what to do; none of them means that anything changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The order's current status does not allow the action (HTTP 409 `invalid_transition`).
    #[error("cannot {action} an order whose status is {status}")]
    InvalidTransition {
        /// What was asked.
        action: OrderAction,
        /// The status that refused it.
        status: OrderStatus,
    },
    /// Dispute statuses only move forward, and a resolution is applied once.
    #[error("cannot move a dispute from {from} to {to}")]
    InvalidDisputeTransition {
        /// The dispute's current status.
        from: DisputeStatus,
        /// The status asked for.
        to: DisputeStatus,
    },
    /// Evidence can only be added while a dispute is OPEN or in EVIDENCE.
    #[error("evidence cannot be added to a dispute whose status is {status}")]
    EvidenceClosed {
        /// The dispute's current status.
        status: DisputeStatus,
    },
    /// Offers are made only while a dispute is OPEN, in EVIDENCE or in REVIEW (HTTP 409
    /// `invalid_transition`).
    #[error("no offer can be made in a dispute whose status is {status}")]
    OffersClosed {
        /// The dispute's current status.
        status: DisputeStatus,
    },
    /// The dispute has no such offer (HTTP 404).
    #[error("Not found.")]
    OfferNotFound,
    /// Only the pending offer may be accepted or declined (HTTP 409 `offer_not_pending`).
    #[error("This offer was already accepted, declined or withdrawn.")]
    OfferNotPending {
        /// Where the offer stands.
        status: crate::dispute::OfferStatus,
    },
    /// An order has at most one dispute in its life.
    #[error("this order already has a dispute")]
    DisputeExists,
    /// The order was paid through another escrow than the one given.
    #[error("this order is already paid with another escrow")]
    EscrowMismatch,
    /// The order waits on the Wallet for another change; it can be tried again once that
    /// one is finished (HTTP 409 `operation_in_progress`).
    #[error("Another change of this order is moving its money; try again shortly.")]
    OperationInProgress,
    /// The order's dispute is open: the order is settled through its dispute, not by a
    /// refund, release, split, cancellation or extension of its own (HTTP 409
    /// `order_disputed`).
    #[error("This order's dispute is open; settle it through the dispute.")]
    OrderDisputed,
    /// The order was cancelled (an auction's winner paid too late): the payment must go
    /// back to the payer (HTTP 409 `order_cancelled`).
    #[error("This order was cancelled; it can no longer be paid.")]
    OrderCancelled,
    /// A deadline has not passed yet: the buyer may cancel a paid order only once the
    /// seller let `ship_by` pass (HTTP 409 `not_yet_overdue`).
    #[error(
        "The seller may still ship this order; it can be cancelled once its ship_by has passed."
    )]
    NotYetOverdue,
    /// The listing cannot be bought now.
    #[error("{0}")]
    ListingUnavailable(ListingUnavailable),
    /// A value is malformed or out of range; `field` names the input it came from.
    #[error("{field}: {message}")]
    Invalid {
        /// The input field, as the API names it.
        field: &'static str,
        /// What is wrong, in a sentence for the user.
        message: String,
    },
}

impl DomainError {
    /// A [`DomainError::Invalid`] for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Why a listing cannot be bought with Buy It Now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingUnavailable {
    /// The Listing service does not report it ACTIVE.
    NotActive,
    /// It has no Buy It Now price (an auction-only listing).
    NoBuyNowPrice,
}

impl fmt::Display for ListingUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListingUnavailable::NotActive => "This listing is not active.",
            ListingUnavailable::NoBuyNowPrice => "This listing cannot be bought now.",
        })
    }
}
