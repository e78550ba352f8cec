//! The service object every use case hangs off, and the steps they share.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use order_domain::order::{Changed, Deadlines, Terms};
use order_domain::{
    Actor, Dispute, DisputeId, DomainEvent, EventId, FeeRate, Order, OrderId, OrderStatus,
};
use order_ports::{
    Clock, IdSource, Listings, OrderStore, OutboxMessage, RecordedEvent, StoreError, StoryLine,
    UnitOfWork, Wallet,
};

use crate::error::AppError;
use crate::story_details::story_details;
use order_events::EventDocument;

/// The adapters the use cases run against.
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn OrderStore>,
    pub wallet: Arc<dyn Wallet>,
    pub listings: Arc<dyn Listings>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

/// The business settings: the fee (`FEE_RATE`), the deadline windows
/// (`PAYMENT_WINDOW`, `SHIP_WITHIN`, `DISPUTE_RESPONSE_WINDOW`, `AUTO_COMPLETE_AFTER`), and
/// how long a Wallet movement's requester is given before a worker finishes it
/// (`PAYMENT_RESUME_AFTER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub fee_rate: FeeRate,
    pub deadlines: Deadlines,
    pub resume_after: TimeDelta,
}

impl Settings {
    /// The fee and deadline windows, as the domain's rules take them together.
    pub fn terms(&self) -> Terms {
        Terms {
            fee_rate: self.fee_rate,
            deadlines: self.deadlines,
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            fee_rate: FeeRate::default(),
            deadlines: Deadlines::default(),
            resume_after: TimeDelta::minutes(2),
        }
    }
}

/// The Order Service's use cases. Cheap to clone: everything in it is shared.
#[derive(Clone)]
pub struct OrderService {
    pub(crate) ports: Ports,
    pub(crate) settings: Settings,
}

impl OrderService {
    pub fn new(ports: Ports, settings: Settings) -> OrderService {
        OrderService { ports, settings }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) async fn begin(&self) -> Result<Box<dyn UnitOfWork>, AppError> {
        Ok(self.ports.store.begin().await?)
    }

    /// The order, locked for the rest of the unit of work.
    pub(crate) async fn lock_order(
        uow: &mut dyn UnitOfWork,
        id: OrderId,
    ) -> Result<Order, AppError> {
        uow.lock_order(id).await?.ok_or(AppError::NotFound)
    }

    /// The dispute and its order, both locked (the order first, as every use case locks
    /// them); 404 when there is no such dispute.
    pub(crate) async fn lock_dispute(
        uow: &mut dyn UnitOfWork,
        id: DisputeId,
    ) -> Result<(Order, Dispute), AppError> {
        uow.lock_dispute_with_order(id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// A change of one order that moves no money, start to end: locks the order, asks
    /// `decide` — the caller's rights and the domain's transition, given the order and the
    /// time — for the change and who makes it, stores both and commits. A change `decide`
    /// finds already made (`None`) answers the order as it is. Money-moving changes go
    /// through [`OrderService::move_money`] instead.
    pub(crate) async fn change_order(
        &self,
        order_id: OrderId,
        decide: impl FnOnce(&Order, DateTime<Utc>) -> Result<Option<(Changed<Order>, Actor)>, AppError>,
    ) -> Result<Order, AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let Some((changed, actor)) = decide(&order, self.ports.clock.now())? else {
            return Ok(order);
        };
        let changed = self
            .store_change(uow.as_mut(), order.status, changed, actor)
            .await?;
        uow.commit().await?;
        Ok(changed)
    }

    /// Writes a transition of an order that was `before`, with its events, done by `actor`.
    pub(crate) async fn store_change(
        &self,
        uow: &mut dyn UnitOfWork,
        before: OrderStatus,
        changed: Changed<Order>,
        actor: Actor,
    ) -> Result<Order, AppError> {
        uow.update_order(&changed.value, before).await?;
        self.append_events(uow, &changed.events, actor, before)
            .await?;
        Ok(changed.value)
    }

    /// A change of one dispute that moves no money, start to end: locks the dispute with its
    /// order, asks `decide` — the caller's rights and the domain's transition, given both and
    /// the time — for the change and who makes it, stores both and commits. The order's
    /// status is not changed by it; its events are numbered in the order's sequence.
    /// Resolutions that move money go through the money driver instead.
    pub(crate) async fn change_dispute(
        &self,
        dispute_id: DisputeId,
        decide: impl FnOnce(
            &Order,
            &Dispute,
            DateTime<Utc>,
        ) -> Result<(Changed<Dispute>, Actor), AppError>,
    ) -> Result<Dispute, AppError> {
        let mut uow = self.begin().await?;
        let (order, dispute) = Self::lock_dispute(uow.as_mut(), dispute_id).await?;
        let (changed, actor) = decide(&order, &dispute, self.ports.clock.now())?;
        uow.update_dispute(&changed.value).await?;
        self.append_events(uow.as_mut(), &changed.events, actor, order.status)
            .await?;
        uow.commit().await?;
        Ok(changed.value)
    }

    /// Records `events` of one order, done by `actor` to an order that was `before`: each
    /// numbered in the order's sequence, published as its document, kept as its history.
    pub(crate) async fn append_events(
        &self,
        uow: &mut dyn UnitOfWork,
        events: &[DomainEvent],
        actor: Actor,
        before: OrderStatus,
    ) -> Result<(), AppError> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        let count = u64::try_from(events.len()).unwrap_or(u64::MAX);
        let mut sequence = uow.reserve_sequences(first.order.id, count).await?;
        let mut from_status = before;
        let mut recorded = Vec::with_capacity(events.len());
        let trace = order_ports::trace::context();
        for event in events {
            let event_id = EventId::from_uuid(self.ports.ids.new_id());
            let detail = EventDocument::new(event_id, event, sequence);
            recorded.push(RecordedEvent {
                message: OutboxMessage {
                    event_id,
                    event_type: event.event_type,
                    order_id: event.order.id,
                    occurred_at: event.occurred_at,
                    payload: serde_json::to_string(&detail).map_err(|error| {
                        StoreError::Internal(format!("an event did not serialize: {error}"))
                    })?,
                    trace,
                },
                story: StoryLine {
                    sequence,
                    actor,
                    from_status,
                    to_status: event.order.status,
                    details: story_details(event),
                },
            });
            from_status = event.order.status;
            sequence += 1;
        }
        Ok(uow.append_outbox(recorded).await?)
    }
}
