//! The Order Service's store and unit-of-work ports kept in memory.
//!
//! It is held to the same contract as the PostgreSQL adapter (`order-store-contract` runs
//! one suite against both): a unit of work locks the rows it reads until it ends, writes
//! nothing others can see before it commits and nothing at all if dropped, numbers each
//! order's events without gaps, and claims for workers skip rows another unit of work
//! holds. It is what use-case tests run on, so that they test behaviour rather than calls;
//! a test stages here the races it cannot time against a database ([`Moment`],
//! [`MemoryStore::misclaim`]).
//!
//! It is not durable and keeps every row and lock it ever had: not for production.

mod erasure;
mod escrows;
mod lists;
mod locks;
mod races;
mod state;
mod unit_of_work;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use order_domain::order::Sweep;
use order_domain::{Dispute, DisputeId, Order, OrderId, UserId};
use order_ports::store::{
    DisputeQuery, EscrowCursor, EscrowLines, EscrowScope, OrderQuery, Page, UserErasure,
};
use order_ports::{
    FeedEvent, HistoryEntry, IntentLease, IntentStats, OrderStore, RecordedEvent, StoreError,
    UnitOfWork,
};

use crate::locks::{Key, Locks};
use crate::races::Races;
use crate::state::{State, StoredOrder};
use crate::unit_of_work::MemoryUnitOfWork;

pub use crate::races::Moment;

/// The store. Clones share the same rows.
#[derive(Clone, Default)]
pub struct MemoryStore {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// What committed units of work stored. Held only between awaits.
    state: Mutex<State>,
    /// Row locks, held by units of work across awaits until they end.
    locks: Locks,
    /// What tests staged to happen inside store calls.
    races: Mutex<Races>,
}

/// Every committed row, as a test reads them back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// With their dispute's summary, as the store reads them.
    pub orders: BTreeMap<OrderId, Order>,
    pub disputes: BTreeMap<DisputeId, Dispute>,
    /// In commit order.
    pub outbox: Vec<RecordedEvent>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Stores `order` as committed, as a test's starting point; its events are numbered on
    /// from none.
    pub fn seed_order(&self, order: Order) -> Result<(), StoreError> {
        let sequence = 0;
        let stored = StoredOrder { order, sequence };
        self.state()?.orders.insert(stored.order.id, stored);
        Ok(())
    }

    /// Stores `dispute` as committed, as a test's starting point.
    pub fn seed_dispute(&self, dispute: Dispute) -> Result<(), StoreError> {
        self.state()?.disputes.insert(dispute.id, dispute);
        Ok(())
    }

    /// Everything committed so far.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let state = self.state()?;
        Ok(Snapshot {
            orders: state
                .orders
                .keys()
                .filter_map(|id| Some((*id, state.order(*id)?)))
                .collect(),
            disputes: state.disputes.clone(),
            outbox: state.outbox.iter().map(|row| row.event.clone()).collect(),
        })
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.shared.state()
    }
}

impl Shared {
    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state
            .lock()
            .map_err(|_| StoreError::Internal("a unit of work panicked mid-commit".into()))
    }

    fn races(&self) -> Result<MutexGuard<'_, Races>, StoreError> {
        self.races
            .lock()
            .map_err(|_| StoreError::Internal("a test's staging panicked".into()))
    }

    /// Commits what a test staged for `moment`.
    fn play(&self, moment: Moment) -> Result<(), StoreError> {
        let mut races = self.races()?;
        races.play(moment, &mut *self.state()?);
        Ok(())
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        Ok(Box::new(MemoryUnitOfWork::new(self.shared.clone())))
    }

    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        Ok(self.state()?.order(id))
    }

    async fn list_orders(&self, query: OrderQuery) -> Result<Page<Order>, StoreError> {
        Ok(self.state()?.list_orders(&query))
    }

    async fn dispute(&self, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        Ok(self.state()?.disputes.get(&id).cloned())
    }

    async fn list_disputes(&self, query: DisputeQuery) -> Result<Page<Dispute>, StoreError> {
        Ok(self.state()?.list_disputes(&query))
    }

    async fn claim_stale_intents(&self, lease: IntentLease) -> Result<Vec<Order>, StoreError> {
        let IntentLease { now, until, limit } = lease;
        // Rows a unit of work holds are passed over, as `SKIP LOCKED` does; each claimed
        // row is leased and committed at once, its lock let go.
        let candidates = self.state()?.stale_intents(now);
        let mut claimed = Vec::new();
        for id in candidates {
            if claimed.len() == limit {
                break;
            }
            let Some(_held) = self.shared.locks.try_lock(Key::Order(id)) else {
                continue;
            };
            let mut state = self.state()?;
            if let Some(order) = state.lease_intent(id, now, until) {
                claimed.push(order);
            }
        }
        self.shared.play(Moment::AfterIntentClaim)?;
        Ok(claimed)
    }

    async fn intent_stats(&self) -> Result<IntentStats, StoreError> {
        Ok(self.state()?.intent_stats())
    }

    async fn oldest_due(
        &self,
        sweep: Sweep,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.state()?.oldest_due(sweep, now))
    }

    async fn oldest_unanswered_dispute(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.state()?.oldest_unanswered_dispute(now))
    }

    async fn history(
        &self,
        order: OrderId,
        offset: u64,
        limit: u32,
    ) -> Result<Page<HistoryEntry>, StoreError> {
        Ok(self.state()?.history(order, offset, limit))
    }

    async fn assign_feed_positions(&self, limit: usize) -> Result<usize, StoreError> {
        Ok(self.state()?.assign_feed_positions(limit))
    }

    async fn feed(&self, after: u64, limit: u32) -> Result<Vec<FeedEvent>, StoreError> {
        Ok(self.state()?.feed(after, limit))
    }

    async fn forget_carrier_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = self.state()?;
        let kept = state.carrier_events.len();
        state.carrier_events.retain(|_, (_, at)| *at >= before);
        Ok((kept - state.carrier_events.len()) as u64)
    }

    async fn erasure_of(&self, user: UserId) -> Result<UserErasure, StoreError> {
        Ok(self.state()?.erasure_of(user))
    }

    async fn backfill_ended_at(&self, limit: usize) -> Result<u64, StoreError> {
        // Rows a unit of work holds are passed over, as `SKIP LOCKED` does.
        let unrecorded = self.state()?.end_unrecorded();
        let mut filled = 0;
        for id in unrecorded.into_iter().take(limit) {
            let Some(_held) = self.shared.locks.try_lock(Key::Order(id)) else {
                continue;
            };
            self.state()?.record_end(id);
            filled += 1;
        }
        Ok(filled)
    }

    async fn escrow_lines(
        &self,
        scope: EscrowScope,
        after: Option<EscrowCursor>,
        limit: usize,
    ) -> Result<EscrowLines, StoreError> {
        Ok(self.state()?.escrow_lines(scope, after, limit))
    }
}
