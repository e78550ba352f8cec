use std::fmt;

use order_domain::DomainError;
use order_ports::{ListingError, StoreError, WalletError};

/// A peer service this one depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    Wallet,
    Listing,
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Peer::Wallet => "wallet service",
            Peer::Listing => "listing service",
        })
    }
}

/// Why a use case did not do what it was asked. Whatever the variant, nothing was stored
/// and no money moved, except where a variant says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// No such thing, or the caller may not know it exists.
    #[error("Not found.")]
    NotFound,
    /// The caller may see the thing but not do this to it.
    #[error("You do not have permission to perform this action.")]
    Forbidden,
    /// The domain refused the change (invalid transition, invalid value…).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The request contradicts what already exists (an order for the listing with other
    /// content, a listing sold to someone else).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// The buyer's wallet declined the payment; the order was cancelled.
    #[error("Payment declined: insufficient funds.")]
    PaymentDeclined,
    /// A peer could not be reached; the same request may be retried.
    #[error("The {0} is unavailable; try again later.")]
    PeerUnavailable(Peer),
    /// A call to a peer was not even attempted: the peer is taken to be down (its circuit
    /// breaker is open) or too many calls already wait on it. Retry after `retry_after`.
    #[error("The {peer} is unavailable; try again later.")]
    PeerShed {
        peer: Peer,
        retry_after: std::time::Duration,
    },
    /// A peer refused the request or answered nonsense.
    #[error("The {peer} refused the request: {detail}")]
    PeerFailed { peer: Peer, detail: String },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub(crate) fn from_wallet(error: WalletError) -> AppError {
        match error {
            WalletError::InsufficientFunds => AppError::PaymentDeclined,
            WalletError::Unavailable(detail) => {
                tracing::warn!(%detail, "wallet unavailable");
                AppError::PeerUnavailable(Peer::Wallet)
            }
            WalletError::Shed {
                reason,
                retry_after,
            } => {
                tracing::warn!(%reason, "wallet call shed");
                AppError::PeerShed {
                    peer: Peer::Wallet,
                    retry_after,
                }
            }
            WalletError::Rejected(detail) => AppError::PeerFailed {
                peer: Peer::Wallet,
                detail,
            },
        }
    }

    pub(crate) fn from_listing(error: ListingError) -> AppError {
        match error {
            ListingError::NotFound => AppError::NotFound,
            ListingError::Unavailable(detail) => {
                tracing::warn!(%detail, "listing service unavailable");
                AppError::PeerUnavailable(Peer::Listing)
            }
            ListingError::Protocol(detail) => AppError::PeerFailed {
                peer: Peer::Listing,
                detail,
            },
        }
    }
}
