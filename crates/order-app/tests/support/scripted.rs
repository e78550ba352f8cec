//! A store scripted with mockall, for the cases an honest store cannot be made to show on
//! cue: an insert that loses a race at a chosen moment, a row claimed as due that the
//! domain refuses. Units of work journal what they would store.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use order_app::OrderService;
use order_domain::order::Sweep;
use order_domain::{Dispute, EventType, Order, OrderStatus};
use order_ports::{
    MockListings, MockOrderStore, MockUnitOfWork, MockWallet, OutboxMessage, RecordedEvent,
    StoreError, SweepClaim,
};

/// One write a unit of work was asked to make.
#[derive(Clone, Debug)]
pub enum Write {
    InsertOrder(Order),
    UpdateOrder { order: Order, expected: OrderStatus },
    InsertDispute(Dispute),
    UpdateDispute(Dispute),
    Outbox(RecordedEvent),
}

/// What committed units of work stored, in order. Writes of a unit of work that never
/// committed are not in it: they were rolled back.
#[derive(Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<Write>>>);

impl Journal {
    pub fn writes(&self) -> Vec<Write> {
        self.0.lock().unwrap().clone()
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().unwrap().is_empty()
    }

    pub fn events(&self) -> Vec<EventType> {
        self.outbox().iter().map(|m| m.event_type).collect()
    }

    pub fn outbox(&self) -> Vec<OutboxMessage> {
        self.recorded().into_iter().map(|r| r.message).collect()
    }

    /// The events recorded, with what the order's history shows of each.
    pub fn recorded(&self) -> Vec<RecordedEvent> {
        self.writes()
            .into_iter()
            .filter_map(|w| match w {
                Write::Outbox(recorded) => Some(recorded),
                _ => None,
            })
            .collect()
    }

    /// The last committed version of the order `id`, if any write stored one.
    pub fn latest_order(&self, id: order_domain::OrderId) -> Option<Order> {
        self.orders().into_iter().rev().find(|order| order.id == id)
    }

    /// The last committed version of the dispute `id`, if any write stored one.
    pub fn latest_dispute(&self, id: order_domain::DisputeId) -> Option<Dispute> {
        self.disputes().into_iter().rev().find(|d| d.id == id)
    }

    /// The orders stored, by insert or update, in order.
    pub fn orders(&self) -> Vec<Order> {
        self.writes()
            .into_iter()
            .filter_map(|w| match w {
                Write::InsertOrder(order) | Write::UpdateOrder { order, .. } => Some(order),
                _ => None,
            })
            .collect()
    }

    pub fn disputes(&self) -> Vec<Dispute> {
        self.writes()
            .into_iter()
            .filter_map(|w| match w {
                Write::InsertDispute(d) | Write::UpdateDispute(d) => Some(d),
                _ => None,
            })
            .collect()
    }
}

/// What one unit of work finds in the store. What earlier units of work committed wins:
/// a unit of work that locks an order or a dispute gets its last committed version.
#[derive(Clone, Default)]
pub struct Found {
    /// What `lock_order` returns, whatever the id, unless a version was committed.
    pub order: Option<Order>,
    /// What `lock_live_order_for_listing` returns.
    pub live: Option<Order>,
    /// What `lock_dispute` returns.
    pub dispute: Option<Dispute>,
    /// What successive `claim_due_orders` calls for [`Sweep::DueCompletion`] return, one
    /// at a time, then nothing.
    pub due: Vec<Order>,
    /// What `claim_due_orders` returns for any other sweep, less the skipped.
    pub overdue: Vec<Order>,
    /// Whether `insert_order` loses a race to another request.
    pub insert_conflicts: bool,
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

    /// A mocked unit of work that serves these finds and journals its writes on commit.
    pub fn unit_of_work(self, journal: &Journal) -> MockUnitOfWork {
        let pending: Arc<Mutex<Vec<Write>>> = Arc::default();
        let mut uow = MockUnitOfWork::new();
        let (order, seen) = (self.order.clone(), journal.clone());
        uow.expect_lock_order()
            .returning(move |id| Ok(seen.latest_order(id).or_else(|| order.clone())));
        let live = self.live.clone();
        uow.expect_lock_live_order_for_listing()
            .returning(move |_| Ok(live.clone()));
        let (dispute, seen) = (self.dispute.clone(), journal.clone());
        uow.expect_lock_dispute()
            .returning(move |id| Ok(seen.latest_dispute(id).or_else(|| dispute.clone())));
        let (order, dispute, seen) = (self.order.clone(), self.dispute.clone(), journal.clone());
        uow.expect_lock_dispute_with_order().returning(move |id| {
            let dispute = seen.latest_dispute(id).or_else(|| dispute.clone());
            Ok(dispute.map(|dispute| {
                let order = seen
                    .latest_order(dispute.order_id)
                    .or_else(|| order.clone())
                    .expect("a dispute's order is found with it");
                (order, dispute)
            }))
        });
        let due = Mutex::new(VecDeque::from(self.due.clone()));
        let overdue = self.overdue.clone();
        uow.expect_claim_due_orders()
            .returning(move |sweep, SweepClaim { limit, skip, .. }| {
                if sweep == Sweep::DueCompletion {
                    let mut due = due.lock().unwrap();
                    let next = std::iter::from_fn(|| due.pop_front())
                        .find(|order| !skip.contains(&order.id));
                    return Ok(next.into_iter().collect());
                }
                Ok(overdue
                    .iter()
                    .filter(|order| !skip.contains(&order.id))
                    .take(limit)
                    .cloned()
                    .collect())
            });
        uow.expect_claim_unanswered_disputes()
            .returning(|_| Ok(Vec::new()));
        let (p, conflicts) = (pending.clone(), self.insert_conflicts);
        uow.expect_insert_order().returning(move |order| {
            if conflicts {
                return Err(StoreError::Conflict("orders_one_live_per_listing".into()));
            }
            p.lock().unwrap().push(Write::InsertOrder(order.clone()));
            Ok(())
        });
        let p = pending.clone();
        uow.expect_update_order().returning(move |order, expected| {
            p.lock().unwrap().push(Write::UpdateOrder {
                order: order.clone(),
                expected,
            });
            Ok(())
        });
        let p = pending.clone();
        uow.expect_insert_dispute().returning(move |d| {
            p.lock().unwrap().push(Write::InsertDispute(d.clone()));
            Ok(())
        });
        let p = pending.clone();
        uow.expect_update_dispute().returning(move |d| {
            p.lock().unwrap().push(Write::UpdateDispute(d.clone()));
            Ok(())
        });
        // Each order's events numbered on from what earlier units of work committed.
        let seen = journal.clone();
        uow.expect_reserve_sequences()
            .returning(move |order, count| {
                let _ = count;
                let last = seen
                    .recorded()
                    .iter()
                    .filter(|r| r.message.order_id == order)
                    .map(|r| r.story.sequence)
                    .max()
                    .unwrap_or(0);
                Ok(last + 1)
            });
        let p = pending.clone();
        uow.expect_append_outbox().returning(move |messages| {
            p.lock()
                .unwrap()
                .extend(messages.into_iter().map(Write::Outbox));
            Ok(())
        });
        let committed = journal.0.clone();
        uow.expect_commit().returning(move || {
            committed
                .lock()
                .unwrap()
                .append(&mut pending.lock().unwrap());
            Ok(())
        });
        uow
    }
}

/// The ports of one test: mocks to set expectations on, then [`World::service`].
pub struct ScriptedWorld {
    pub store: MockOrderStore,
    pub wallet: MockWallet,
    pub listings: MockListings,
    pub journal: Journal,
    units: Arc<Mutex<VecDeque<MockUnitOfWork>>>,
}

impl ScriptedWorld {
    pub fn new() -> ScriptedWorld {
        let units: Arc<Mutex<VecDeque<MockUnitOfWork>>> = Arc::default();
        let mut store = MockOrderStore::new();
        let queue = units.clone();
        store.expect_begin().returning(move || {
            let uow = queue
                .lock()
                .unwrap()
                .pop_front()
                .expect("an unexpected unit of work");
            Ok(Box::new(uow))
        });
        ScriptedWorld {
            store,
            wallet: MockWallet::new(),
            listings: MockListings::new(),
            journal: Journal::default(),
            units,
        }
    }

    /// The next unit of work the service begins will find `found`.
    pub fn then_finds(self, found: Found) -> ScriptedWorld {
        let uow = found.unit_of_work(&self.journal);
        self.units.lock().unwrap().push_back(uow);
        self
    }

    pub fn service(self) -> (OrderService, Journal) {
        let service = super::service_on(
            Arc::new(self.store),
            self.wallet,
            self.listings,
            super::a_month_on(),
        );
        (service, self.journal)
    }
}
