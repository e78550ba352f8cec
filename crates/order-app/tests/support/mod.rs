//! A service on the in-memory store, with mocked peers, and what it stored read back.
//!
//! A test seeds the store with the rows it starts from, runs a use case, and reads what
//! changed since: the store keeps its rules (locks, conditional updates, sequences) as the
//! PostgreSQL adapter does, so a test asserts what was stored, not which calls were made.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use order_app::{AppError, AuctionWin, OrderService, Ports, Settings};
use order_domain::fixtures::{buyer, listing_id, money, seller, t0};
use order_domain::order::{ShippingAddress, Sweep};
use order_domain::{Dispute, DisputeId, EventType, Order, OrderId, OrderStatus};
use order_memory::{MemoryStore, Snapshot};
use order_ports::{
    MockClock, MockIdSource, MockListings, MockWallet, OrderStore, OutboxMessage, RecordedEvent,
};
use serde_json::Value;
use uuid::Uuid;

/// The fixtures' auction win: the listing, its buyer and seller, 125.00 + 10.00 shipping.
pub fn win() -> AuctionWin {
    AuctionWin {
        listing_id: listing_id(),
        buyer_id: buyer(),
        seller_id: seller(),
        amount: money("125.00"),
        shipping_cost: money("10.00"),
        shipping_address: ShippingAddress::default(),
    }
}

/// The code of a 409 `outcome`; `None` for anything else.
pub fn conflict_code<T>(outcome: &Result<T, AppError>) -> Option<&'static str> {
    match outcome {
        Err(AppError::Conflict { code, .. }) => Some(code),
        _ => None,
    }
}

/// When the services of these tests run, unless a test says: long after every fixture.
pub fn a_month_on() -> DateTime<Utc> {
    t0() + chrono::TimeDelta::days(30)
}

/// The service on `store` and the peers, its clock stopped at `now`, its ids counted.
pub fn service_on(
    store: Arc<dyn OrderStore>,
    wallet: MockWallet,
    listings: MockListings,
    now: DateTime<Utc>,
) -> OrderService {
    let mut clock = MockClock::new();
    clock.expect_now().returning(move || now);
    let mut ids = MockIdSource::new();
    let next = AtomicU64::new(1_000);
    ids.expect_new_id()
        .returning(move || Uuid::from_u128(next.fetch_add(1, Ordering::Relaxed).into()));
    let ports = Ports {
        store,
        wallet: Arc::new(wallet),
        listings: Arc::new(listings),
        clock: Arc::new(clock),
        ids: Arc::new(ids),
    };
    OrderService::new(ports, Settings::default())
}

/// What changed in the store since the service was built.
pub struct Journal {
    store: MemoryStore,
    before: Snapshot,
}

impl Journal {
    fn now(&self) -> Snapshot {
        self.store.snapshot().unwrap()
    }

    /// Nothing was stored.
    pub fn is_empty(&self) -> bool {
        self.now() == self.before
    }

    /// The events recorded, with what the order's history shows of each, in commit order.
    pub fn recorded(&self) -> Vec<RecordedEvent> {
        self.now().outbox.split_off(self.before.outbox.len())
    }

    pub fn outbox(&self) -> Vec<OutboxMessage> {
        self.recorded().into_iter().map(|r| r.message).collect()
    }

    pub fn events(&self) -> Vec<EventType> {
        self.outbox().iter().map(|m| m.event_type).collect()
    }

    /// The status of the order written last.
    pub fn last_status(&self) -> OrderStatus {
        self.orders().last().expect("an order was written").status
    }

    /// The order `id` as stored now, if it changed (or appeared).
    pub fn latest_order(&self, id: OrderId) -> Option<Order> {
        let now = self.now().orders.remove(&id);
        now.filter(|order| self.before.orders.get(&id) != Some(order))
    }

    /// The dispute `id` as stored now, if it changed (or appeared).
    pub fn latest_dispute(&self, id: DisputeId) -> Option<Dispute> {
        let now = self.now().disputes.remove(&id);
        now.filter(|dispute| self.before.disputes.get(&id) != Some(dispute))
    }

    /// The orders that changed or appeared, as stored now.
    pub fn orders(&self) -> Vec<Order> {
        let now = self.now().orders;
        now.into_values()
            .filter(|order| self.before.orders.get(&order.id) != Some(order))
            .collect()
    }

    /// The disputes that changed or appeared, as stored now.
    pub fn disputes(&self) -> Vec<Dispute> {
        let now = self.now().disputes;
        now.into_values()
            .filter(|dispute| self.before.disputes.get(&dispute.id) != Some(dispute))
            .collect()
    }
}

/// Rows a test starts from.
#[derive(Clone, Default)]
pub struct Found {
    pub order: Option<Order>,
    /// A listing's live order (stored like any other).
    pub live: Option<Order>,
    pub dispute: Option<Dispute>,
    /// Orders due for auto-completion (stored like any other).
    pub due: Vec<Order>,
}

impl Found {
    pub fn order(order: Order) -> Found {
        Found {
            order: Some(order),
            ..Found::default()
        }
    }

    pub fn nothing() -> Found {
        Found::default()
    }
}

/// The ports of one test: the store to seed, the peers' mocks to set expectations on, then
/// [`World::service`].
pub struct World {
    pub store: MemoryStore,
    pub wallet: MockWallet,
    pub listings: MockListings,
}

impl World {
    pub fn new() -> World {
        World {
            store: MemoryStore::new(),
            wallet: MockWallet::new(),
            listings: MockListings::new(),
        }
    }

    /// A world whose store holds `order` and nothing else.
    pub fn holding(order: Order) -> World {
        World::new().then_finds(Found::order(order))
    }

    /// The store also holds `order`.
    pub fn and(self, order: Order) -> World {
        self.then_finds(Found::order(order))
    }

    /// The Wallet releases an escrow `times` times, each answered with success.
    pub fn releasing(mut self, times: usize) -> World {
        self.wallet
            .expect_release_escrow()
            .times(times)
            .returning(|_| Ok(()));
        self
    }

    /// The Wallet refunds an escrow `times` times, each answered with success.
    pub fn refunding(mut self, times: usize) -> World {
        self.wallet
            .expect_refund_escrow()
            .times(times)
            .returning(|_| Ok(()));
        self
    }

    /// The store's claims for `sweep` also return the order `id`, as a store whose query
    /// disagreed with the domain would (an honest store never does).
    pub fn misclaiming(self, sweep: Sweep, id: OrderId) -> World {
        self.store.misclaim(sweep, id).unwrap();
        self
    }

    /// The store also holds `dispute`.
    pub fn knowing(self, dispute: &Dispute) -> World {
        self.store.seed_dispute(dispute.clone()).unwrap();
        self
    }

    /// The store also holds what `found` names.
    pub fn then_finds(self, found: Found) -> World {
        let orders = found.order.into_iter().chain(found.live).chain(found.due);
        for order in orders {
            self.store.seed_order(order).unwrap();
        }
        if let Some(dispute) = found.dispute {
            self.store.seed_dispute(dispute).unwrap();
        }
        self
    }

    pub fn service(self) -> (OrderService, Journal) {
        self.service_at(a_month_on())
    }

    /// The service with its clock stopped at `now`.
    pub fn service_at(self, now: DateTime<Utc>) -> (OrderService, Journal) {
        let journal = Journal {
            store: self.store.clone(),
            before: self.store.snapshot().unwrap(),
        };
        let store = Arc::new(self.store);
        (service_on(store, self.wallet, self.listings, now), journal)
    }
}

/// The JSON document of an outbox message.
pub fn payload(message: &OutboxMessage) -> Value {
    serde_json::from_str(&message.payload).unwrap()
}
