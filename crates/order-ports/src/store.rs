//! Where orders and disputes are kept.
//!
//! Every change is made inside a [`UnitOfWork`]: lock what the change reads, write the
//! change with a conditional update and its outbox messages, commit. Either all of it is
//! stored or none of it, and two units of work racing on one order can never both win.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use order_domain::dispute::DisputeStatus;
use order_domain::order::{CarrierEventId, ParcelKey, Sweep};
use order_domain::{
    Dispute, DisputeId, EventId, EventType, ListingId, Order, OrderId, OrderStatus, Parties,
    Settlement, UserId,
};
use uuid::Uuid;

use crate::outbox::{RecordedEvent, StoryLine};
use crate::sweep::{IntentLease, SweepClaims};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write: a second live order for a listing, a second
    /// dispute for an order.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row is no longer in the state the change was computed from.
    #[error("the record changed concurrently")]
    Stale,
    /// The database cannot be reached now (pool exhausted, connection refused, shut down);
    /// the same request may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken invariant, never the caller's fault.
    #[error("database error: {0}")]
    Internal(String),
}

/// One database transaction. Dropping it without [`UnitOfWork::commit`] rolls it back.
///
/// A store may hold back the writes to rows this unit of work holds (locked, claimed or
/// inserted by it) and send them with a later call, at the latest with `commit`: an error
/// a write MUST return (`Conflict`, `Stale`) may then come from that later call.
///
/// Its claims for the workers' sweeps are a port of their own, [`SweepClaims`]: they lock
/// rows in this same transaction, which the sweep's writes rely on.
#[async_trait]
pub trait UnitOfWork: SweepClaims {
    /// The order, locked until the unit of work ends; `None` if there is no such order.
    async fn lock_order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError>;

    /// The listing's live (not CANCELLED) order, locked; `None` if it has none.
    async fn lock_live_order_for_listing(
        &mut self,
        listing_id: ListingId,
    ) -> Result<Option<Order>, StoreError>;

    /// The orders whose parcel is `parcel` — exactly those whose
    /// [`Order::followed_parcel`] is it: SHIPPED or DELIVERED — each locked, in id order
    /// (so that two units of work locking the same parcel's orders cannot deadlock).
    /// Several orders share a parcel when a seller ships them together.
    async fn lock_orders_by_parcel(&mut self, parcel: &ParcelKey)
        -> Result<Vec<Order>, StoreError>;

    /// Records that the carrier's update `event_id` was applied to `orders` at `at`, as part
    /// of this unit of work. `false`, recording nothing, when it was recorded before; an
    /// update another unit of work is recording at the same time is waited for, so that
    /// of two units racing with one update exactly one gets `true`.
    async fn record_carrier_event(
        &mut self,
        event_id: &CarrierEventId,
        orders: Vec<OrderId>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The orders the carrier's update `event_id` was applied to, if it was recorded.
    async fn carrier_event(
        &mut self,
        event_id: &CarrierEventId,
    ) -> Result<Option<Vec<OrderId>>, StoreError>;

    /// Stores a new order. MUST return [`StoreError::Conflict`] if its listing already has
    /// a live order.
    async fn insert_order(&mut self, order: &Order) -> Result<(), StoreError>;

    /// Stores `order` over the stored one if that one's status is still `expected`.
    /// MUST return [`StoreError::Stale`] otherwise.
    async fn update_order(
        &mut self,
        order: &Order,
        expected: OrderStatus,
    ) -> Result<(), StoreError>;

    /// The dispute, locked until the unit of work ends.
    async fn lock_dispute(&mut self, id: DisputeId) -> Result<Option<Dispute>, StoreError>;

    /// The dispute and its order, both locked until the unit of work ends (the order first,
    /// as every unit of work locks them); `None` if there is no such dispute.
    async fn lock_dispute_with_order(
        &mut self,
        id: DisputeId,
    ) -> Result<Option<(Order, Dispute)>, StoreError>;

    /// Stores a new dispute. MUST return [`StoreError::Conflict`] if its order already has one.
    async fn insert_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError>;

    /// Stores `dispute` over the stored one.
    async fn update_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError>;

    /// Reserves `count` numbers of the order's event sequence and returns the first: the
    /// order's events are numbered 1, 2, 3… with no gap, in the order their units of work
    /// commit (the counter is on the order's row, locked until this unit of work ends).
    async fn reserve_sequences(&mut self, order: OrderId, count: u64) -> Result<u64, StoreError>;

    /// Adds events to the outbox, to be published once this unit of work commits, and to
    /// the order's history.
    async fn append_outbox(&mut self, events: Vec<RecordedEvent>) -> Result<(), StoreError>;

    /// The order's stored events — the documents behind its history and the replay feed —
    /// oldest first, locked until the unit of work ends.
    async fn order_documents(&mut self, order: OrderId) -> Result<Vec<StoredDocument>, StoreError>;

    /// Stores `document`'s payload and details over those of its event.
    async fn replace_document(&mut self, document: &StoredDocument) -> Result<(), StoreError>;

    /// Records at `now` that `user` asked for their personal data to be erased: every
    /// order of theirs (as buyer or seller) whose personal data is kept and whose
    /// `erasure_requested_at` is unset gets it set, so that it is erased once it has ended
    /// — after a restart too. Asking again changes nothing. How many orders it marked.
    async fn request_erasure(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Makes every write of this unit of work durable and visible, and releases its locks.
    async fn commit(&mut self) -> Result<(), StoreError>;
}

/// The order and dispute store.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Starts a unit of work. MUST return [`StoreError::Unavailable`] when no connection
    /// can be had.
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError>;

    /// The order as last committed.
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError>;

    /// One page of the orders matching `query`.
    async fn list_orders(&self, query: OrderQuery) -> Result<Page<Order>, StoreError>;

    /// The dispute as last committed.
    async fn dispute(&self, id: DisputeId) -> Result<Option<Dispute>, StoreError>;

    /// One page of the disputes matching `query`.
    async fn list_disputes(&self, query: DisputeQuery) -> Result<Page<Dispute>, StoreError>;

    /// Up to `lease.limit` orders whose escrow intent was due to be taken over at
    /// `lease.now`, each leased to the caller: its `resume_at` moves to `lease.until`, so
    /// that other workers pass it over meanwhile. One statement, committed at once; nothing
    /// stays locked while the caller calls the Wallet. Several workers calling this at once
    /// get different orders.
    async fn claim_stale_intents(&self, lease: IntentLease) -> Result<Vec<Order>, StoreError>;

    /// How many orders wait on the Wallet, and since when the oldest has.
    async fn intent_stats(&self) -> Result<IntentStats, StoreError>;

    /// The deadline of the longest overdue order due for `sweep` at `now` — of exactly those
    /// [`Order::is_due`] calls due, as [`SweepClaims::claim_due_orders`] would claim them
    /// first — or `None` when none is: how far behind its deadlines the sweep is. Locks
    /// nothing.
    async fn oldest_due(
        &self,
        sweep: Sweep,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// The `respond_by` of the longest unanswered dispute at `now`, as
    /// [`SweepClaims::claim_unanswered_disputes`] would claim it first, or `None`. Locks
    /// nothing.
    async fn oldest_unanswered_dispute(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;

    /// Rows `offset..offset + limit` of the order's history, oldest first, with the total.
    async fn history(
        &self,
        order: OrderId,
        offset: u64,
        limit: u32,
    ) -> Result<Page<HistoryEntry>, StoreError>;

    /// Gives up to `limit` committed events without a feed position the next positions, in
    /// one serialized step: a position is handed out only to a committed event, and only
    /// above every position handed out before, so a reader paging by position never skips
    /// an event nor sees one twice. The number of events positioned.
    async fn assign_feed_positions(&self, limit: usize) -> Result<usize, StoreError>;

    /// Up to `limit` events of the replay feed after `after`, in position order.
    async fn feed(&self, after: u64, limit: u32) -> Result<Vec<FeedEvent>, StoreError>;

    /// Forgets the carriers' updates recorded before `before`; how many it forgot.
    async fn forget_carrier_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Where `user`'s orders (as buyer or seller) stand on erasure, as last committed.
    async fn erasure_of(&self, user: UserId) -> Result<UserErasure, StoreError>;

    /// Fills in `ended_at` on up to `limit` ended orders that have none — orders that ended
    /// before it was recorded — from the time their status records (completed or
    /// cancelled), else their latest event. One short statement; skips rows others hold.
    /// How many it filled in: 0 once none is left.
    async fn backfill_ended_at(&self, limit: usize) -> Result<u64, StoreError>;

    /// Up to `limit` of the orders in `scope` that have an escrow, after `after` (from the
    /// start when `None`), each with the settlement its payout recorded, as last committed.
    /// Paging with the returned `next` until it is `None` reads every such order once
    /// (an order changed while the pages are read may be read again, never skipped), in
    /// constant memory however many there are. Nothing is locked.
    async fn escrow_lines(
        &self,
        scope: EscrowScope,
        after: Option<EscrowCursor>,
        limit: usize,
    ) -> Result<EscrowLines, StoreError>;
}

/// Where a user's orders stand on erasure ([`OrderStore::erasure_of`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserErasure {
    /// Orders whose personal data is erased.
    pub erased: u64,
    /// Orders whose personal data is still kept: open ones, needed until they end, and
    /// ended ones a worker is erasing now.
    pub pending: u64,
}

/// Which orders a reconciliation reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscrowScope {
    /// Every order.
    All,
    /// The orders changed at or after this time: at least those — a store may include a few
    /// changed shortly before, never leave one out.
    ChangedSince(DateTime<Utc>),
    /// One order.
    Order(OrderId),
}

/// Where a read of [`OrderStore::escrow_lines`] stopped. Only the store that returned it
/// knows what it means: pass it back unchanged, with the same scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscrowCursor {
    /// After this order, in id order.
    AfterOrder(OrderId),
    /// After this place in the store's log of changes.
    AfterChange(i64),
}

/// An order as a reconciliation compares it with its escrow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscrowLine {
    pub order: Order,
    /// The split its payout recorded (the settlement of its latest event carrying one),
    /// if it was paid out and the record is kept.
    pub settlement: Option<Settlement>,
}

/// One page of [`OrderStore::escrow_lines`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscrowLines {
    pub lines: Vec<EscrowLine>,
    /// Where the next page starts; `None` when this was the last.
    pub next: Option<EscrowCursor>,
}

/// One stored event's document and history details, as an erasure rewrites them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDocument {
    pub event_id: EventId,
    /// The document as EventBridge got it (and the replay feed serves it).
    pub payload: String,
    /// What the history shows of it.
    pub details: serde_json::Value,
}

/// One event of an order's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub event_id: EventId,
    pub event_type: EventType,
    pub occurred_at: DateTime<Utc>,
    pub story: StoryLine,
}

/// One event of the replay feed: every event of every order in one total order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEvent {
    pub position: u64,
    pub event_id: EventId,
    pub event_type: EventType,
    pub order_id: OrderId,
    pub sequence: u64,
    pub occurred_at: DateTime<Utc>,
    /// Exactly the document EventBridge gets.
    pub payload: String,
}

/// The orders waiting on a Wallet movement, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntentStats {
    pub pending: u64,
    /// When the oldest pending intent was recorded.
    pub oldest: Option<DateTime<Utc>>,
}

/// Whose orders a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Every order (admins and services).
    All,
    /// Orders where the user is the buyer or the seller.
    Participant(UserId),
    /// Orders where the user is the buyer.
    Buyer(UserId),
    /// Orders where the user is the seller.
    Seller(UserId),
}

impl Visibility {
    /// Whether `order` is among the orders this shows: the rule a store's list query must
    /// agree with.
    pub fn admits(&self, order: &Order) -> bool {
        match *self {
            Visibility::All => true,
            Visibility::Participant(user) => order.participant(user).is_some(),
            Visibility::Buyer(user) => order.buyer_id == user,
            Visibility::Seller(user) => order.seller_id == user,
        }
    }
}

/// Which end of the timeline a list starts from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// A place in a list sorted by `(created_at, id)`: the last row of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// Which slice of a list to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageRequest {
    /// Rows `offset..offset + limit`, with the total count.
    Offset { offset: u64, limit: u32 },
    /// The `limit` rows that follow `after` in the list's order (from the top when `None`).
    After { after: Option<Position>, limit: u32 },
    /// The `limit` rows that precede `before`, still in the list's order.
    Before { before: Position, limit: u32 },
}

/// How many rows a list matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    /// Exactly this many.
    Exact(u64),
    /// This many at least: counting stopped there, for a filter no kept count answers.
    AtLeast(u64),
}

impl Total {
    /// The number, exact or not.
    pub fn count(self) -> u64 {
        match self {
            Total::Exact(n) | Total::AtLeast(n) => n,
        }
    }
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The number of matching rows, for offset pages only.
    pub total: Option<Total>,
    /// Whether rows exist beyond this page in the direction it was read.
    pub has_more: bool,
}

/// A read of the order list: whose orders it may cover, and what was asked of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderQuery {
    pub visibility: Visibility,
    pub selection: OrderSelection,
}

/// What a caller asks of the order list: everything but whose orders it covers, which
/// follows from who asks and so is never the caller's to choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSelection {
    /// Any of these statuses; every status when empty.
    pub statuses: Vec<OrderStatus>,
    pub listing_id: Option<ListingId>,
    /// Created at or after this.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this.
    pub created_before: Option<DateTime<Utc>>,
    pub sort: SortOrder,
    pub page: PageRequest,
}

impl OrderSelection {
    /// Every order, one `page` of them in `sort`'s order.
    pub fn every(sort: SortOrder, page: PageRequest) -> OrderSelection {
        OrderSelection {
            statuses: Vec::new(),
            listing_id: None,
            created_after: None,
            created_before: None,
            sort,
            page,
        }
    }

    /// Whether `order` passes the filters, the sort and the page aside: the meaning every
    /// store gives them (from `created_after` inclusive to `created_before` exclusive).
    pub fn matches(&self, order: &Order) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&order.status))
            && self
                .listing_id
                .map_or(true, |listing| order.listing_id == listing)
            && self
                .created_after
                .map_or(true, |after| order.created_at >= after)
            && self
                .created_before
                .map_or(true, |before| order.created_at < before)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeQuery {
    /// Any of these statuses; every status when empty.
    pub statuses: Vec<DisputeStatus>,
    pub page: PageRequest,
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use order_domain::fixtures::{listing_id, paid, placed};
    use order_domain::ListingId;

    use super::*;

    fn every() -> OrderSelection {
        let page = PageRequest::Offset {
            offset: 0,
            limit: 10,
        };
        OrderSelection::every(SortOrder::NewestFirst, page)
    }

    #[test]
    fn a_selection_with_no_filter_matches_every_order() {
        assert!(every().matches(&placed()));
        assert!(every().matches(&paid()));
    }

    #[test]
    fn a_selection_matches_any_of_its_statuses() {
        let paid_or_shipped = OrderSelection {
            statuses: vec![OrderStatus::Paid, OrderStatus::Shipped],
            ..every()
        };
        assert!(paid_or_shipped.matches(&paid()));
        assert!(!paid_or_shipped.matches(&placed()));
    }

    #[test]
    fn a_selection_matches_only_its_listing() {
        let its = OrderSelection {
            listing_id: Some(listing_id()),
            ..every()
        };
        let another = OrderSelection {
            listing_id: Some(ListingId::from_uuid(Uuid::from_u128(1))),
            ..every()
        };
        assert!(its.matches(&placed()));
        assert!(!another.matches(&placed()));
    }

    #[test]
    fn a_creation_window_takes_its_start_and_leaves_its_end() {
        let created = placed().created_at;
        let window = |after, before| OrderSelection {
            created_after: Some(after),
            created_before: Some(before),
            ..every()
        };
        let minute = TimeDelta::minutes(1);
        assert!(window(created, created + minute).matches(&placed()));
        assert!(!window(created - minute, created).matches(&placed()));
        assert!(!window(created + minute, created + minute * 2).matches(&placed()));
    }
}
