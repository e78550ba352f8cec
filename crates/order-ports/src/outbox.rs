//! Events on their way out: written with the change they describe, published later by the
//! relay, at least once, in order for each order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use order_domain::{Actor, EventId, EventType, OrderId, OrderStatus};

use crate::store::StoreError;
use crate::trace::TraceContext;

/// One event as stored in the transactional outbox, ready to be published as is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    pub event_id: EventId,
    pub event_type: EventType,
    /// Events of one order are published in the order they were written.
    pub order_id: OrderId,
    pub occurred_at: DateTime<Utc>,
    /// The event's JSON document (EventBridge's `Detail`), fixed when the change is made.
    pub payload: String,
    /// The trace the change that wrote it was part of, if it came with (or started) one.
    pub trace: Option<TraceContext>,
}

/// An event as a unit of work records it: what is published, and what the order's history
/// shows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    pub message: OutboxMessage,
    pub story: StoryLine,
}

/// An event as the order's history tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoryLine {
    /// The event's place among its order's events: 1, 2, 3…, gap-free, in commit order.
    pub sequence: u64,
    pub actor: Actor,
    /// The order's status before and after (equal when only its dispute changed).
    pub from_status: OrderStatus,
    pub to_status: OrderStatus,
    /// What the event adds (tracking, reason, resolution, settlement…), as a JSON object;
    /// never an admin's notes.
    pub details: serde_json::Value,
}

/// An outbox row waiting to be published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEvent {
    /// The row's place in the outbox: commit order.
    pub seq: i64,
    /// Failed publications so far, for whatever reason.
    pub attempts: u32,
    /// Of those, the times the bus refused the entry itself ([`PublishError::Refused`]).
    pub refusals: u32,
    pub message: OutboxMessage,
}

/// Where the outbox stands, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OutboxStats {
    /// Rows not yet published (parked ones excluded).
    pub pending: u64,
    /// Rows the bus refused for good; they need a person.
    pub parked: u64,
    /// Pending rows that wait behind a parked event of their order.
    pub held_back: u64,
    /// How long the oldest pending row has waited, in seconds.
    pub lag_seconds: f64,
}

/// A publication that failed, as the outbox records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishFailure {
    /// What went wrong, as the publisher told it; kept as the row's last error.
    pub error: String,
    /// Whether the bus refused the event, rather than being unavailable: only refusals
    /// count towards parking it.
    pub refused: bool,
    /// When the row is due again; `None` parks it (never retried, and holding back its
    /// order's later rows until it is requeued).
    pub retry_at: Option<DateTime<Utc>>,
}

/// One relay step's transaction. Dropping it without [`OutboxBatch::commit`] rolls back:
/// the claimed rows are published again by a later step (at least once).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OutboxBatch: Send {
    /// Claims up to `limit` rows due at `now`, locked so that no other relay claims them,
    /// in `seq` order. Only the oldest unpublished row of each order is claimable, so an
    /// order's events go out in the order they were written.
    async fn claim(
        &mut self,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<PendingEvent>, StoreError>;

    /// Marks rows published.
    async fn mark_published(
        &mut self,
        seqs: Vec<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records a failed publication of row `seq` at `now`.
    async fn mark_failed(
        &mut self,
        seq: i64,
        failure: PublishFailure,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    async fn commit(&mut self) -> Result<(), StoreError>;
}

/// The outbox, as the relay sees it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Starts a relay step's transaction.
    async fn begin_batch(&self) -> Result<Box<dyn OutboxBatch>, StoreError>;

    async fn stats(&self, now: DateTime<Utc>) -> Result<OutboxStats, StoreError>;
}

/// Why an event did not go out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The bus could not be reached, or failed the call (or this entry) for a reason that
    /// passes: connection refused or reset, timeouts, throttling, 5xx, a call that failed
    /// as a whole. The event waits and is retried for as long as it takes; never parked.
    #[error("the bus is unavailable: {0}")]
    Unavailable(String),
    /// The bus refused this entry on its own, for a reason retrying cannot fix (a malformed
    /// or oversized entry, say): after enough refusals the event is parked, as poison.
    #[error("the bus refused the event: {0}")]
    Refused(String),
}

/// Publishes events to the world (EventBridge, or the log).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes `events`, and says for each, in the same order, whether it went out. An
    /// event reported failed may still have been delivered (consumers drop duplicates by
    /// `event_id`); one reported published was. A failure MUST be
    /// [`PublishError::Unavailable`] unless the bus refused that entry for good.
    async fn publish(&self, events: Vec<OutboxMessage>) -> Vec<Result<(), PublishError>>;
}
