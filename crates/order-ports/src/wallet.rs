//! The Wallet service, which holds every escrow. This service moves money only through it.
//!
//! Every request carries the idempotency key its order recorded with the intent to move the
//! money (see `order_domain::order::EscrowIntent`), so that a retried call — a peer-side
//! retry, the caller's retry, a worker finishing the intent — never moves money twice.

use async_trait::async_trait;
use order_domain::reconcile::EscrowRecord;
use order_domain::{EscrowId, Money, OrderId, UserId};

/// Take `amount` from the buyer's balance into a new escrow for the order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldEscrow {
    pub order_id: OrderId,
    pub buyer_id: UserId,
    pub amount: Money,
    /// The key of the order's recorded intent: one hold per order, however often retried.
    pub idempotency_key: String,
}

/// Pay an escrow out to the seller and the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseEscrow {
    pub escrow_id: EscrowId,
    pub order_id: OrderId,
    pub seller_id: UserId,
    pub seller_amount: Money,
    pub fee_amount: Money,
    /// The key of the order's recorded intent: one release per order, whoever triggers it.
    pub idempotency_key: String,
}

/// Return some or all of an escrow to the buyer; the rest goes to the seller and platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundEscrow {
    pub escrow_id: EscrowId,
    pub order_id: OrderId,
    pub buyer_id: UserId,
    pub refund_amount: Money,
    pub seller_id: UserId,
    pub seller_amount: Money,
    pub fee_amount: Money,
    /// The key of the order's recorded intent: one refund per dispute or cancellation.
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    /// The buyer's balance does not cover the hold (the Wallet answered 402).
    #[error("insufficient funds")]
    InsufficientFunds,
    /// The Wallet could not be reached, timed out or answered 5xx after every retry.
    /// Nothing is known to have moved; the same call may be retried.
    #[error("wallet unavailable: {0}")]
    Unavailable(String),
    /// The call was not made: the Wallet is taken to be down (the circuit breaker is open)
    /// or too many calls are waiting on it. Nothing moved; retry after `retry_after`.
    #[error("wallet call not attempted: {reason}")]
    Shed {
        reason: String,
        retry_after: std::time::Duration,
    },
    /// The Wallet refused the request (another 4xx) or answered something unreadable.
    #[error("wallet refused the request: {0}")]
    Rejected(String),
}

/// Moves escrowed money through the Wallet service.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Wallet: Send + Sync {
    /// Holds the order's total in a new escrow and returns its id; the same request again
    /// returns the same escrow. MUST return [`WalletError::InsufficientFunds`] on a 402.
    async fn hold_escrow(&self, request: HoldEscrow) -> Result<EscrowId, WalletError>;

    /// Releases the escrow; releasing it again with the same request is a no-op success.
    async fn release_escrow(&self, request: ReleaseEscrow) -> Result<(), WalletError>;

    /// Refunds the escrow as split in the request; again with the same request is a no-op.
    async fn refund_escrow(&self, request: RefundEscrow) -> Result<(), WalletError>;

    /// The Wallet's account of one escrow, read without changing anything; `None` when the
    /// Wallet does not know it (a 404). MUST return [`WalletError::Unavailable`] or
    /// [`WalletError::Shed`] when it could not be read, never `None`: an unreadable Wallet
    /// is not an unknown escrow.
    async fn escrow(&self, id: EscrowId) -> Result<Option<EscrowRecord>, WalletError>;
}
