//! The Dispute aggregate: a buyer or seller's complaint about an order, and the admin's
//! decision on where the escrow goes.

mod evidence;
mod offer;
mod status;
mod transition;

pub use evidence::{DisputeReason, EvidenceUrl};
pub use offer::{Offer, OfferStatus};
pub use status::{DisputeStatus, Resolution};
pub use transition::{DisputeDecision, DisputeOpened, DisputeUpdate, Payout};

use std::ops::Deref;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{DisputeId, OrderId, UserId};
use crate::money::Money;

/// Everything a dispute records; readable through [`Dispute`]'s `Deref`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeData {
    /// The dispute's own id.
    pub id: DisputeId,
    /// The disputed order.
    pub order_id: OrderId,
    /// The party (buyer or seller) who opened it.
    pub opened_by: UserId,
    /// The order's parties, copied so that who may read the dispute is known without the order.
    pub buyer_id: UserId,
    /// The order's seller; see `buyer_id`.
    pub seller_id: UserId,
    /// Why it was opened, as its opener wrote it.
    pub reason: DisputeReason,
    /// Links either party added, oldest first; at most [`Dispute::MAX_EVIDENCE`].
    pub evidence: Vec<EvidenceUrl>,
    /// Where the dispute is; it only moves forward.
    pub status: DisputeStatus,
    /// The admin's decision, once the dispute is RESOLVED.
    pub resolution: Option<Resolution>,
    /// What the buyer got back, for a PARTIAL_REFUND or REFUND_BUYER resolution.
    pub refund_amount: Option<Money>,
    /// The admin's notes, empty until an admin writes some.
    pub admin_notes: String,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When anything of it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the party that did not open the dispute must have answered by; cleared once it
    /// adds evidence or the dispute leaves OPEN/EVIDENCE.
    pub respond_by: Option<DateTime<Utc>>,
    /// When that party first added evidence.
    pub responded_at: Option<DateTime<Utc>>,
    /// When the deadline worker moved the unanswered dispute to REVIEW.
    pub escalated_at: Option<DateTime<Utc>>,
    /// The seller's settlement offers, oldest first; at most one PENDING.
    pub offers: Vec<Offer>,
}

/// A dispute. Opened by [`crate::order::Order::open_dispute`]; changed by its methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dispute(DisputeData);

/// What an order shows of its dispute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisputeSummary {
    /// The dispute's id.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub id: DisputeId,
    /// Its status.
    pub status: DisputeStatus,
    /// Its resolution, once resolved.
    pub resolution: Option<Resolution>,
}

impl Dispute {
    /// At most this many evidence URLs per dispute.
    pub const MAX_EVIDENCE: usize = 20;

    /// Rebuilds a dispute from storage.
    pub fn rehydrate(data: DisputeData) -> Dispute {
        Dispute(data)
    }

    /// Gives up the dispute's data, for storage.
    pub fn into_data(self) -> DisputeData {
        self.0
    }

    /// What an order shows of this dispute.
    pub fn summary(&self) -> DisputeSummary {
        DisputeSummary {
            id: self.id,
            status: self.status,
            resolution: self.resolution,
        }
    }

    /// Whether the respondent let `respond_by` pass at `now` while the dispute still
    /// waited for an answer: the one statement of when [`Dispute::escalate`] applies, which
    /// every store's escalation claim takes (for an order not waiting on the Wallet).
    pub fn is_unanswered(&self, now: DateTime<Utc>) -> bool {
        self.status.accepts_evidence() && self.respond_by.is_some_and(|due| due <= now)
    }

    /// The party expected to answer: the one that did not open the dispute.
    pub fn respondent(&self) -> UserId {
        if self.opened_by == self.buyer_id {
            self.seller_id
        } else {
            self.buyer_id
        }
    }
}

impl Deref for Dispute {
    type Target = DisputeData;

    fn deref(&self) -> &DisputeData {
        &self.0
    }
}
