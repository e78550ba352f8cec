//! The Order Service's use cases: one module per operation of the API.
//!
//! Each use case takes the caller's identity, enforces who may do what, asks the
//! domain for the change, and stores the change with its events in one unit of work. A
//! change that moves money goes through the money driver (`money`): it records its intent,
//! calls the wallet port with nothing locked, and applies the answer in a second unit of
//! work. It knows the ports only;
//! HTTP, SQL and peers' wire formats belong to the adapters.

// No request path may panic: what an `expect` would assume, the types carry.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::unreachable)]

mod caller;
mod error;
mod money;
mod relay;
mod service;
mod story_details;
mod use_case;

pub use caller::Caller;
pub use error::{AppError, Peer};
pub use order_events::{DisputeView, EventDocument, EventKind, OrderView, EVENT_VERSION};
pub use relay::{BusState, OutboxRelay, RelayReport, RelaySettings};
pub use service::{OrderService, Ports, Settings};
pub use use_case::auto_complete::AutoCompletion;
pub use use_case::create::AuctionWin;
pub use use_case::deadlines::DeadlineSweep;
pub use use_case::personal_data::{
    ErasureOutcome, ErasureRound, UserErasureOutcome, ERASURE_BATCH,
};
pub use use_case::purchase::Purchase;
pub use use_case::reconcile::{
    Finding, FindingKind, ReconcileError, ReconcileProgress, ReconcileSummary,
};
pub use use_case::resume::IntentSweep;
pub use use_case::tracking::TrackingReceipt;
pub use use_case::Placed;
