//! The ports of the Order Service: the traits its use cases need from the outside world.
//!
//! Each trait says what its adapter MUST do and which error it MUST return when, so that
//! the use cases in `order-app` can rely on it without knowing PostgreSQL, reqwest or
//! EventBridge. With the `mocks` feature, the peers', the outbox's and the system's traits
//! get a `mockall` mock for unit tests; the store's have an in-memory adapter instead
//! (`order-memory`), held to the same contract as the PostgreSQL one.
//!
//! This crate holds no implementation of its own but the system clock, the id source and
//! the trace context a request carries to the adapters (`trace`).

pub mod listing;
pub mod outbox;
pub mod store;
pub mod sweep;
pub mod system;
pub mod trace;
pub mod wallet;

pub use listing::{ListingError, Listings};
pub use outbox::{
    EventPublisher, Outbox, OutboxBatch, OutboxMessage, OutboxStats, PendingEvent, PublishError,
    PublishFailure, RecordedEvent, StoryLine,
};
pub use store::{
    FeedEvent, HistoryEntry, IntentStats, OrderStore, StoreError, StoredDocument, UnitOfWork,
    UserErasure,
};
pub use sweep::{IntentLease, SweepClaim, SweepClaims};
pub use system::{Clock, IdSource, SystemClock, UuidV7Ids};
pub use wallet::{HoldEscrow, RefundEscrow, ReleaseEscrow, Wallet, WalletError};

#[cfg(feature = "mocks")]
pub use listing::MockListings;
#[cfg(feature = "mocks")]
pub use outbox::{MockEventPublisher, MockOutbox, MockOutboxBatch};
#[cfg(feature = "mocks")]
pub use system::{MockClock, MockIdSource};
#[cfg(feature = "mocks")]
pub use wallet::MockWallet;
