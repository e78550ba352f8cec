//! One unit of work: the rows it locks, held until it ends, and its writes, kept aside
//! until it commits and dropped with it otherwise.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use order_domain::order::{CarrierEventId, ParcelKey, Sweep};
use order_domain::personal::ErasureDue;
use order_domain::{Dispute, DisputeId, EventId, ListingId, Order, OrderId, OrderStatus, UserId};
use order_ports::{RecordedEvent, StoreError, StoredDocument, SweepClaim, SweepClaims, UnitOfWork};

use crate::locks::{Held, Key};
use crate::races::Moment;
use crate::state::{with_dispute, OutboxRow, State, StoredOrder};
use crate::Shared;

/// What the database's unique indexes are called, for the conflicts they raise.
const ONE_LIVE_ORDER_PER_LISTING: &str = "orders_one_live_per_listing";
const ONE_DISPUTE_PER_ORDER: &str = "disputes_order_id_key";

pub(crate) struct MemoryUnitOfWork {
    shared: Arc<Shared>,
    held: HashMap<Key, Held>,
    /// Orders this unit of work wrote, as they will be stored; `true` for an insert.
    orders: HashMap<OrderId, (Order, bool)>,
    /// Disputes this unit of work wrote; `true` for an insert.
    disputes: HashMap<DisputeId, (Dispute, bool)>,
    /// The last sequence number handed out, for each order this unit of work numbered
    /// events of.
    sequences: HashMap<OrderId, u64>,
    outbox: Vec<RecordedEvent>,
    /// Carriers' updates this unit of work recorded.
    carrier_events: Vec<(CarrierEventId, Vec<OrderId>, DateTime<Utc>)>,
    /// Stored events this unit of work rewrote, by event id.
    documents: HashMap<EventId, StoredDocument>,
}

impl MemoryUnitOfWork {
    pub(crate) fn new(shared: Arc<Shared>) -> MemoryUnitOfWork {
        MemoryUnitOfWork {
            shared,
            held: HashMap::new(),
            orders: HashMap::new(),
            disputes: HashMap::new(),
            sequences: HashMap::new(),
            outbox: Vec::new(),
            carrier_events: Vec::new(),
            documents: HashMap::new(),
        }
    }

    /// Waits for the row's lock, unless this unit of work holds it already.
    async fn hold(&mut self, key: Key) {
        if !self.held.contains_key(&key) {
            let held = self.shared.locks.lock(key).await;
            self.held.insert(key, held);
        }
    }

    /// Takes the row's lock if nobody else holds it (`SKIP LOCKED`).
    fn try_hold(&mut self, key: Key) -> bool {
        if self.held.contains_key(&key) {
            return true;
        }
        match self.shared.locks.try_lock(key) {
            Some(held) => {
                self.held.insert(key, held);
                true
            }
            None => false,
        }
    }

    fn state(&self) -> Result<std::sync::MutexGuard<'_, State>, StoreError> {
        self.shared.state()
    }

    /// The order as this unit of work sees it: its own write, or the committed row.
    /// Every order as this unit of work sees it: its own writes over what is committed.
    fn seen_orders<'a>(&'a self, state: &'a State) -> impl Iterator<Item = &'a Order> {
        let committed = state
            .orders
            .values()
            .map(|stored| &stored.order)
            .filter(|stored| !self.orders.contains_key(&stored.id));
        committed.chain(self.orders.values().map(|(order, _)| order))
    }

    fn current_order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        let state = self.state()?;
        let order = match self.orders.get(&id) {
            Some((order, _)) => order.clone(),
            None => match state.orders.get(&id) {
                Some(stored) => stored.order.clone(),
                None => return Ok(None),
            },
        };
        let disputes = self.current_disputes(&state);
        Ok(Some(with_dispute(order, disputes.iter())))
    }

    fn current_dispute(&self, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        Ok(match self.disputes.get(&id) {
            Some((dispute, _)) => Some(dispute.clone()),
            None => self.state()?.disputes.get(&id).cloned(),
        })
    }

    /// Every dispute as this unit of work sees it.
    fn current_disputes(&self, state: &State) -> Vec<Dispute> {
        let mut disputes: HashMap<DisputeId, Dispute> =
            state.disputes.clone().into_iter().collect();
        for (id, (dispute, _)) in &self.disputes {
            disputes.insert(*id, dispute.clone());
        }
        disputes.into_values().collect()
    }

    /// Locks the first rows of `candidates` that are still `due` once locked, up to
    /// `limit`; a row another unit of work holds is passed over or waited for, as `others`
    /// says.
    async fn claim(
        &mut self,
        candidates: Vec<OrderId>,
        limit: usize,
        due: impl Fn(&Order) -> bool + Send,
        others: OthersRows,
    ) -> Result<Vec<Order>, StoreError> {
        let mut claimed = Vec::new();
        for id in candidates {
            if claimed.len() == limit {
                break;
            }
            match others {
                OthersRows::PassOver if !self.try_hold(Key::Order(id)) => continue,
                OthersRows::PassOver => {}
                OthersRows::WaitFor => self.hold(Key::Order(id)).await,
            }
            match self.current_order(id)? {
                Some(order) if due(&order) => claimed.push(order),
                _ => {
                    self.held.remove(&Key::Order(id));
                }
            }
        }
        Ok(claimed)
    }

    /// The committed orders `due` holds for, sorted by `deadline`.
    fn candidates(
        &self,
        due: impl Fn(&Order) -> bool,
        deadline: impl Fn(&Order) -> Option<DateTime<Utc>>,
    ) -> Result<Vec<OrderId>, StoreError> {
        let state = self.state()?;
        let mut found: Vec<_> = state
            .orders
            .values()
            .map(|stored| &stored.order)
            .filter(|order| due(order))
            .map(|order| (deadline(order), order.id))
            .collect();
        found.sort();
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }
}

/// What a claim does with a row another unit of work holds: a sweep passes over it
/// (`SKIP LOCKED`); a user's own erasure waits for it (`FOR UPDATE`).
#[derive(Clone, Copy, Debug)]
enum OthersRows {
    PassOver,
    WaitFor,
}

/// Whether `listing` has a live order other than `except` among `orders`.
fn live_elsewhere<'a>(
    mut orders: impl Iterator<Item = &'a Order>,
    listing: ListingId,
    except: OrderId,
) -> bool {
    orders.any(|order| {
        order.listing_id == listing && order.id != except && order.status != OrderStatus::Cancelled
    })
}

#[async_trait]
impl SweepClaims for MemoryUnitOfWork {
    async fn claim_due_orders(
        &mut self,
        sweep: Sweep,
        claim: SweepClaim<OrderId>,
    ) -> Result<Vec<Order>, StoreError> {
        let SweepClaim { now, limit, skip } = claim;
        let misclaimed = self.shared.races()?.misclaimed(sweep);
        let due = |order: &Order| {
            (order.is_due(sweep, now) || misclaimed.contains(&order.id))
                && !skip.contains(&order.id)
        };
        let candidates = self.candidates(due, |order| sweep.deadline(order))?;
        self.claim(candidates, limit, due, OthersRows::PassOver)
            .await
    }

    async fn claim_unanswered_disputes(
        &mut self,
        claim: SweepClaim<DisputeId>,
    ) -> Result<Vec<(Order, Dispute)>, StoreError> {
        let SweepClaim { now, limit, skip } = claim;
        let unanswered =
            |dispute: &Dispute| dispute.is_unanswered(now) && !skip.contains(&dispute.id);
        let mut candidates: Vec<_> = self
            .state()?
            .disputes
            .values()
            .filter(|dispute| unanswered(dispute))
            .map(|dispute| (dispute.respond_by, dispute.id, dispute.order_id))
            .collect();
        candidates.sort();
        let mut claimed = Vec::new();
        for (_, dispute_id, order_id) in candidates {
            if claimed.len() == limit {
                break;
            }
            // Both rows, or neither: a row another unit of work holds is skipped.
            let (order_key, dispute_key) = (Key::Order(order_id), Key::Dispute(dispute_id));
            let had = (
                self.held.contains_key(&order_key),
                self.held.contains_key(&dispute_key),
            );
            if !self.try_hold(order_key) {
                continue;
            }
            if !self.try_hold(dispute_key) {
                if !had.0 {
                    self.held.remove(&order_key);
                }
                continue;
            }
            let order = self.current_order(order_id)?;
            let dispute = self.current_dispute(dispute_id)?;
            match (order, dispute) {
                (Some(order), Some(dispute))
                    if unanswered(&dispute) && order.escrow_intent.is_none() =>
                {
                    claimed.push((order, dispute));
                }
                _ => {
                    if !had.0 {
                        self.held.remove(&order_key);
                    }
                    if !had.1 {
                        self.held.remove(&dispute_key);
                    }
                }
            }
        }
        Ok(claimed)
    }

    async fn claim_erasable_orders(
        &mut self,
        due: ErasureDue,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let erasable = |order: &Order| order.is_erasable(due);
        let candidates = self.candidates(erasable, |order| match due {
            ErasureDue::Requested => order.erasure_requested_at,
            ErasureDue::RetentionPassed { .. } | ErasureDue::PartyIs(_) => order.ended_at,
        })?;
        let others = match due {
            ErasureDue::PartyIs(_) => OthersRows::WaitFor,
            ErasureDue::RetentionPassed { .. } | ErasureDue::Requested => OthersRows::PassOver,
        };
        self.claim(candidates, limit, erasable, others).await
    }
}

#[async_trait]
impl UnitOfWork for MemoryUnitOfWork {
    async fn lock_order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.hold(Key::Order(id)).await;
        self.current_order(id)
    }

    async fn lock_live_order_for_listing(
        &mut self,
        listing_id: ListingId,
    ) -> Result<Option<Order>, StoreError> {
        // As `FOR UPDATE` does, the row is checked again once its lock is had: it may have
        // been cancelled meanwhile.
        loop {
            let written = self
                .orders
                .values()
                .find(|(order, _)| {
                    order.listing_id == listing_id && order.status != OrderStatus::Cancelled
                })
                .map(|(order, _)| order.id);
            let Some(id) = written.or(self.state()?.live_order_of(listing_id)) else {
                return Ok(None);
            };
            self.hold(Key::Order(id)).await;
            match self.current_order(id)? {
                Some(order) if order.status != OrderStatus::Cancelled => return Ok(Some(order)),
                _ => {
                    self.held.remove(&Key::Order(id));
                }
            }
        }
    }

    async fn lock_orders_by_parcel(
        &mut self,
        parcel: &ParcelKey,
    ) -> Result<Vec<Order>, StoreError> {
        let mut ids: Vec<OrderId> = {
            let state = self.state()?;
            self.seen_orders(&state)
                .filter(|order| order.followed_parcel().as_ref() == Some(parcel))
                .map(|order| order.id)
                .collect()
        };
        ids.sort();
        let mut locked = Vec::new();
        for id in ids {
            self.hold(Key::Order(id)).await;
            // Checked again once locked, as PostgreSQL does a row that changed meanwhile.
            match self.current_order(id)? {
                Some(order) if order.followed_parcel().as_ref() == Some(parcel) => {
                    locked.push(order)
                }
                _ => {
                    self.held.remove(&Key::Order(id));
                }
            }
        }
        Ok(locked)
    }

    async fn record_carrier_event(
        &mut self,
        event_id: &CarrierEventId,
        orders: Vec<OrderId>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(event_id, &mut hasher);
        self.hold(Key::CarrierEvent(std::hash::Hasher::finish(&hasher)))
            .await;
        let recorded_here = self.carrier_events.iter().any(|(id, ..)| id == event_id);
        if recorded_here || self.state()?.carrier_events.contains_key(event_id) {
            return Ok(false);
        }
        self.carrier_events.push((event_id.clone(), orders, at));
        Ok(true)
    }

    async fn carrier_event(
        &mut self,
        event_id: &CarrierEventId,
    ) -> Result<Option<Vec<OrderId>>, StoreError> {
        let here = self
            .carrier_events
            .iter()
            .find(|(id, ..)| id == event_id)
            .map(|(_, orders, _)| orders.clone());
        let committed = || {
            self.state().map(|state| {
                state
                    .carrier_events
                    .get(event_id)
                    .map(|(ids, _)| ids.clone())
            })
        };
        match here {
            Some(orders) => Ok(Some(orders)),
            None => committed(),
        }
    }

    async fn insert_order(&mut self, order: &Order) -> Result<(), StoreError> {
        self.shared.play(Moment::BeforeOrderInsert)?;
        {
            let state = self.state()?;
            if state.orders.contains_key(&order.id)
                || live_elsewhere(self.seen_orders(&state), order.listing_id, order.id)
            {
                return Err(StoreError::Conflict(ONE_LIVE_ORDER_PER_LISTING.into()));
            }
        }
        self.hold(Key::Order(order.id)).await;
        self.orders.insert(order.id, (order.clone(), true));
        Ok(())
    }

    async fn update_order(
        &mut self,
        order: &Order,
        expected: OrderStatus,
    ) -> Result<(), StoreError> {
        self.hold(Key::Order(order.id)).await;
        let inserted = match self.orders.get(&order.id) {
            Some((_, inserted)) => *inserted,
            None => false,
        };
        match self.current_order(order.id)? {
            Some(current) if current.status == expected => {
                self.orders.insert(order.id, (order.clone(), inserted));
                Ok(())
            }
            _ => Err(StoreError::Stale),
        }
    }

    async fn lock_dispute(&mut self, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        self.hold(Key::Dispute(id)).await;
        self.current_dispute(id)
    }

    async fn lock_dispute_with_order(
        &mut self,
        id: DisputeId,
    ) -> Result<Option<(Order, Dispute)>, StoreError> {
        let Some(dispute) = self.current_dispute(id)? else {
            return Ok(None);
        };
        // The order first, as every unit of work locks them.
        self.hold(Key::Order(dispute.order_id)).await;
        self.hold(Key::Dispute(id)).await;
        let order = self.current_order(dispute.order_id)?;
        let dispute = self.current_dispute(id)?;
        Ok(order.zip(dispute))
    }

    async fn insert_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError> {
        {
            let state = self.state()?;
            let has_one = self
                .current_disputes(&state)
                .iter()
                .any(|other| other.order_id == dispute.order_id || other.id == dispute.id);
            if has_one {
                return Err(StoreError::Conflict(ONE_DISPUTE_PER_ORDER.into()));
            }
        }
        self.hold(Key::Dispute(dispute.id)).await;
        self.disputes.insert(dispute.id, (dispute.clone(), true));
        Ok(())
    }

    async fn update_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError> {
        self.hold(Key::Dispute(dispute.id)).await;
        let inserted = match self.disputes.get(&dispute.id) {
            Some((_, inserted)) => *inserted,
            None => false,
        };
        if !inserted && !self.state()?.disputes.contains_key(&dispute.id) {
            return Err(StoreError::Stale);
        }
        self.disputes
            .insert(dispute.id, (dispute.clone(), inserted));
        Ok(())
    }

    async fn reserve_sequences(&mut self, order: OrderId, count: u64) -> Result<u64, StoreError> {
        self.hold(Key::Order(order)).await;
        let last = match self.sequences.get(&order) {
            Some(last) => *last,
            None => {
                let state = self.state()?;
                match state.orders.get(&order) {
                    Some(stored) => stored.sequence,
                    None if self.orders.contains_key(&order) => 0,
                    None => return Err(StoreError::Stale),
                }
            }
        };
        self.sequences.insert(order, last + count);
        Ok(last + 1)
    }

    async fn append_outbox(&mut self, events: Vec<RecordedEvent>) -> Result<(), StoreError> {
        self.outbox.extend(events);
        Ok(())
    }

    async fn order_documents(&mut self, order: OrderId) -> Result<Vec<StoredDocument>, StoreError> {
        // The order's lock, which every unit of work changing its events holds, guards them.
        let state = self.shared.state()?;
        let committed = state.outbox.iter().map(|row| &row.event);
        Ok(committed
            .chain(self.outbox.iter())
            .filter(|event| event.message.order_id == order)
            .map(|event| {
                let stored = StoredDocument {
                    event_id: event.message.event_id,
                    payload: event.message.payload.clone(),
                    details: event.story.details.clone(),
                };
                self.documents
                    .get(&stored.event_id)
                    .cloned()
                    .unwrap_or(stored)
            })
            .collect())
    }

    async fn replace_document(&mut self, document: &StoredDocument) -> Result<(), StoreError> {
        self.documents.insert(document.event_id, document.clone());
        Ok(())
    }

    async fn request_erasure(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut ids: Vec<OrderId> = {
            let state = self.state()?;
            self.seen_orders(&state)
                .filter(|order| order.buyer_id == user || order.seller_id == user)
                .map(|order| order.id)
                .collect()
        };
        // In id order, as the database's UPDATE meets rows: two requests cannot deadlock.
        ids.sort();
        let mut marked = 0;
        for id in ids {
            self.hold(Key::Order(id)).await;
            let Some(order) = self.current_order(id)? else {
                continue;
            };
            if let Some(order) = order.request_erasure(now) {
                let inserted = self.orders.get(&id).is_some_and(|(_, inserted)| *inserted);
                self.orders.insert(id, (order, inserted));
                marked += 1;
            }
        }
        Ok(marked)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        let shared = self.shared.clone();
        let mut state = shared.state()?;
        // Inserts racing from units of work that held no common row meet here, as they
        // meet at the database's unique indexes.
        for (order, inserted) in self.orders.values() {
            if *inserted
                && (state.orders.contains_key(&order.id)
                    || live_elsewhere(self.seen_orders(&state), order.listing_id, order.id))
            {
                return Err(StoreError::Conflict(ONE_LIVE_ORDER_PER_LISTING.into()));
            }
        }
        for (dispute, inserted) in self.disputes.values() {
            if *inserted
                && state
                    .disputes
                    .values()
                    .any(|other| other.order_id == dispute.order_id || other.id == dispute.id)
            {
                return Err(StoreError::Conflict(ONE_DISPUTE_PER_ORDER.into()));
            }
        }
        for (id, (order, _)) in self.orders.drain() {
            let sequence = self
                .sequences
                .get(&id)
                .copied()
                .or(state.orders.get(&id).map(|stored| stored.sequence))
                .unwrap_or(0);
            state.orders.insert(id, StoredOrder { order, sequence });
        }
        for (id, last) in self.sequences.drain() {
            if let Some(stored) = state.orders.get_mut(&id) {
                stored.sequence = last;
            }
        }
        for (id, (dispute, _)) in self.disputes.drain() {
            state.disputes.insert(id, dispute);
        }
        for (id, orders, at) in self.carrier_events.drain(..) {
            state.carrier_events.insert(id, (orders, at));
        }
        state
            .outbox
            .extend(self.outbox.drain(..).map(|event| OutboxRow {
                event,
                position: None,
            }));
        for row in &mut state.outbox {
            if let Some(document) = self.documents.remove(&row.event.message.event_id) {
                row.event.message.payload = document.payload;
                row.event.story.details = document.details;
            }
        }
        drop(state);
        self.held.clear();
        Ok(())
    }
}
