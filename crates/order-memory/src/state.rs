//! The committed rows, and the reads that need no lock.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use order_domain::order::{CarrierEventId, Sweep};
use order_domain::{Dispute, DisputeId, Order, OrderId, OrderStatus};
use order_ports::store::{Page, Total};
use order_ports::{FeedEvent, HistoryEntry, IntentStats, RecordedEvent};

/// An order as kept: its dispute's summary is not kept with it but read from the dispute,
/// as the database joins it.
#[derive(Clone, Debug)]
pub(crate) struct StoredOrder {
    pub order: Order,
    /// The last number of its event sequence handed out.
    pub sequence: u64,
}

/// One outbox row: an event, and its place in the replay feed once it has one.
#[derive(Clone, Debug)]
pub(crate) struct OutboxRow {
    pub event: RecordedEvent,
    pub position: Option<u64>,
}

#[derive(Default)]
pub(crate) struct State {
    pub orders: BTreeMap<OrderId, StoredOrder>,
    pub disputes: BTreeMap<DisputeId, Dispute>,
    /// In commit order.
    pub outbox: Vec<OutboxRow>,
    /// The last feed position handed out.
    pub last_position: u64,
    /// Carriers' updates applied: the orders each went to, and when.
    pub carrier_events: HashMap<CarrierEventId, (Vec<OrderId>, DateTime<Utc>)>,
}

/// `order` with `disputes`' summary of its dispute, if it has one.
pub(crate) fn with_dispute<'a>(
    order: Order,
    mut disputes: impl Iterator<Item = &'a Dispute>,
) -> Order {
    let summary = disputes
        .find(|dispute| dispute.order_id == order.id)
        .map(Dispute::summary);
    let mut data = order.into_data();
    data.dispute = summary;
    Order::rehydrate(data)
}

impl State {
    pub fn order(&self, id: OrderId) -> Option<Order> {
        let stored = self.orders.get(&id)?;
        Some(with_dispute(stored.order.clone(), self.disputes.values()))
    }

    /// The live (not CANCELLED) order of `listing`, if any.
    pub fn live_order_of(&self, listing: order_domain::ListingId) -> Option<OrderId> {
        self.orders
            .values()
            .find(|stored| {
                stored.order.listing_id == listing && stored.order.status != OrderStatus::Cancelled
            })
            .map(|stored| stored.order.id)
    }

    /// Orders whose intent was due to be taken over at `now`, earliest first.
    pub fn stale_intents(&self, now: DateTime<Utc>) -> Vec<OrderId> {
        let mut due: Vec<_> = self
            .orders
            .values()
            .filter_map(|stored| {
                let intent = stored.order.escrow_intent.as_ref()?;
                (intent.resume_at <= now).then_some((intent.resume_at, stored.order.id))
            })
            .collect();
        due.sort();
        due.into_iter().map(|(_, id)| id).collect()
    }

    /// Moves the order's intent's `resume_at` to `lease_until`, if it is still due at `now`.
    pub fn lease_intent(
        &mut self,
        id: OrderId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Option<Order> {
        let stored = self.orders.get_mut(&id)?;
        let mut data = stored.order.clone().into_data();
        let intent = data.escrow_intent.as_mut()?;
        if intent.resume_at > now {
            return None;
        }
        intent.resume_at = lease_until;
        stored.order = Order::rehydrate(data);
        self.order(id)
    }

    pub fn intent_stats(&self) -> IntentStats {
        let intents: Vec<_> = self
            .orders
            .values()
            .filter_map(|stored| stored.order.escrow_intent.as_ref())
            .collect();
        IntentStats {
            pending: intents.len() as u64,
            oldest: intents.iter().map(|intent| intent.requested_at).min(),
        }
    }

    /// `OrderStore::oldest_due`: the claim's rule and order, without locking.
    pub fn oldest_due(&self, sweep: Sweep, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.orders
            .values()
            .map(|stored| &stored.order)
            .filter(|order| order.is_due(sweep, now))
            .filter_map(|order| sweep.deadline(order))
            .min()
    }

    /// `OrderStore::oldest_unanswered_dispute`: the escalation's rule, without locking.
    pub fn oldest_unanswered_dispute(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.disputes
            .values()
            .filter(|dispute| dispute.is_unanswered(now))
            .filter(|dispute| {
                self.orders
                    .get(&dispute.order_id)
                    .is_some_and(|stored| stored.order.escrow_intent.is_none())
            })
            .filter_map(|dispute| dispute.respond_by)
            .min()
    }

    pub fn history(&self, order: OrderId, offset: u64, limit: u32) -> Page<HistoryEntry> {
        let mut entries: Vec<_> = self
            .outbox
            .iter()
            .filter(|row| row.event.message.order_id == order)
            .map(|row| HistoryEntry {
                event_id: row.event.message.event_id,
                event_type: row.event.message.event_type,
                occurred_at: row.event.message.occurred_at,
                story: row.event.story.clone(),
            })
            .collect();
        entries.sort_by_key(|entry| entry.story.sequence);
        let total = entries.len() as u64;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let items: Vec<_> = entries
            .into_iter()
            .skip(start)
            .take(limit as usize)
            .collect();
        Page {
            has_more: offset + (items.len() as u64) < total,
            items,
            total: Some(Total::Exact(total)),
        }
    }

    pub fn assign_feed_positions(&mut self, limit: usize) -> usize {
        let mut positioned = 0;
        for row in self.outbox.iter_mut().filter(|row| row.position.is_none()) {
            if positioned == limit {
                break;
            }
            self.last_position += 1;
            row.position = Some(self.last_position);
            positioned += 1;
        }
        positioned
    }

    pub fn feed(&self, after: u64, limit: u32) -> Vec<FeedEvent> {
        let mut events: Vec<_> = self
            .outbox
            .iter()
            .filter_map(|row| {
                let position = row.position.filter(|position| *position > after)?;
                let message = &row.event.message;
                Some(FeedEvent {
                    position,
                    event_id: message.event_id,
                    event_type: message.event_type,
                    order_id: message.order_id,
                    sequence: row.event.story.sequence,
                    occurred_at: message.occurred_at,
                    payload: message.payload.clone(),
                })
            })
            .collect();
        events.sort_by_key(|event| event.position);
        events.truncate(limit as usize);
        events
    }
}
