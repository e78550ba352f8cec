use serde::{Deserialize, Serialize};

/// A dispute's progress. Statuses only move forward, in this order, though a step may be
/// skipped: OPEN → EVIDENCE → REVIEW → RESOLVED → CLOSED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisputeStatus {
    /// Just opened; the other party has not answered yet.
    Open,
    /// The parties are adding evidence.
    Evidence,
    /// An admin is looking at it (or its response deadline passed).
    Review,
    /// Decided: it carries a [`Resolution`].
    Resolved,
    /// Filed away after its resolution.
    Closed,
}

impl DisputeStatus {
    /// Every status, in the order a dispute goes through them.
    pub const ALL: [DisputeStatus; 5] = [
        DisputeStatus::Open,
        DisputeStatus::Evidence,
        DisputeStatus::Review,
        DisputeStatus::Resolved,
        DisputeStatus::Closed,
    ];

    /// The wire name: `OPEN`, `EVIDENCE`, `REVIEW`, `RESOLVED` or `CLOSED`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::Open => "OPEN",
            DisputeStatus::Evidence => "EVIDENCE",
            DisputeStatus::Review => "REVIEW",
            DisputeStatus::Resolved => "RESOLVED",
            DisputeStatus::Closed => "CLOSED",
        }
    }

    /// Whether the parties may still add evidence.
    pub const fn accepts_evidence(self) -> bool {
        matches!(self, DisputeStatus::Open | DisputeStatus::Evidence)
    }
}

wire_name!(DisputeStatus, "a valid dispute status");

/// The admin's decision on where the escrow of a disputed order goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Resolution {
    /// Everything back to the buyer; the order ends REFUNDED.
    RefundBuyer,
    /// The sale goes through; the order ends COMPLETED.
    ReleaseSeller,
    /// The buyer gets `refund_amount`, the seller the rest less the fee; the order ends COMPLETED.
    PartialRefund,
    /// Nothing moves; the order goes back to where it was before the dispute.
    NoAction,
}

impl Resolution {
    /// Every resolution.
    pub const ALL: [Resolution; 4] = [
        Resolution::RefundBuyer,
        Resolution::ReleaseSeller,
        Resolution::PartialRefund,
        Resolution::NoAction,
    ];

    /// The wire name, such as `PARTIAL_REFUND`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Resolution::RefundBuyer => "REFUND_BUYER",
            Resolution::ReleaseSeller => "RELEASE_SELLER",
            Resolution::PartialRefund => "PARTIAL_REFUND",
            Resolution::NoAction => "NO_ACTION",
        }
    }
}

wire_name!(Resolution, "a valid resolution");
