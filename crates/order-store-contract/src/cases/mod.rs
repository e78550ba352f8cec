//! The cases of the contract, one behaviour each. Every case starts from an empty store.
//!
//! An adapter may hold writes back and report their refusal (`Conflict`, `Stale`) from a
//! later call, at the latest `commit`, as the port allows: the cases accept either.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use order_domain::fixtures::*;
use order_domain::order::{
    CancellationReason, Carrier, CarrierDetail, CarrierEventId, Deadlines, IntentRequest,
    ParcelKey, Sweep, TrackingNumber, TrackingStatus, TrackingUpdate,
};
use order_domain::personal::{Erasure, ErasureDue};
use order_domain::{
    Actor, Dispute, DisputeId, EventId, EventType, ListingId, Order, OrderId, OrderStatus, UserId,
};
use order_ports::store::{
    EscrowLine, EscrowScope, OrderQuery, OrderSelection, Page, PageRequest, Position, SortOrder,
    UserErasure, Visibility,
};
use order_ports::{
    IntentLease, OrderStore, OutboxMessage, RecordedEvent, StoreError, StoryLine, SweepClaim,
};
use uuid::Uuid;

mod carriers;
mod claims;
mod erasure;
mod escrow;
mod events;
mod lists;
mod writes;

pub use carriers::*;
pub use claims::*;
pub use erasure::*;
pub use escrow::*;
pub use events::*;
pub use lists::*;
pub use writes::*;

/// `order` as the `n`th of its kind: its own id, listing and creation time (`n` minutes
/// after the fixture's), so that several can be stored side by side.
fn nth(order: Order, n: u128) -> Order {
    let mut data = order.into_data();
    data.id = OrderId::from_uuid(Uuid::from_u128(n));
    data.listing_id = ListingId::from_uuid(Uuid::from_u128(10_000 + n));
    data.created_at += TimeDelta::minutes(n as i64);
    Order::rehydrate(data)
}

/// `order` bought by `buyer` from `seller`.
fn between(order: Order, buyer: u128, seller: u128) -> Order {
    let mut data = order.into_data();
    data.buyer_id = UserId::from_uuid(Uuid::from_u128(buyer));
    data.seller_id = UserId::from_uuid(Uuid::from_u128(seller));
    Order::rehydrate(data)
}

fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

async fn insert(store: &dyn OrderStore, orders: &[Order]) {
    let mut uow = store.begin().await.unwrap();
    for order in orders {
        uow.insert_order(order).await.unwrap();
    }
    uow.commit().await.unwrap();
}

/// Stores `changed` over `before` (locked first), as a use case does.
async fn update(store: &dyn OrderStore, before: &Order, changed: &Order) {
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(before.id).await.unwrap();
    uow.update_order(changed, before.status).await.unwrap();
    uow.commit().await.unwrap();
}

/// An event of `order`, numbered `sequence`.
fn event(order: &Order, sequence: u64, n: u128) -> RecordedEvent {
    RecordedEvent {
        message: OutboxMessage {
            event_id: EventId::from_uuid(Uuid::from_u128(0xE000 + n)),
            event_type: EventType::OrderShipped,
            order_id: order.id,
            occurred_at: t0() + TimeDelta::seconds(n as i64),
            payload: format!("{{\"n\":{n}}}"),
            trace: None,
        },
        story: StoryLine {
            sequence,
            actor: Actor::System,
            from_status: order.status,
            to_status: order.status,
            details: serde_json::json!({"n": n as u64}),
        },
    }
}

/// Records `count` events of `order` in one unit of work; their sequence numbers.
async fn record_events(
    store: &dyn OrderStore,
    order: &Order,
    count: u64,
    first_n: u128,
) -> Vec<u64> {
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(order.id).await.unwrap();
    let first = uow.reserve_sequences(order.id, count).await.unwrap();
    let sequences: Vec<u64> = (first..first + count).collect();
    let events = sequences
        .iter()
        .zip(first_n..)
        .map(|(sequence, n)| event(order, *sequence, n))
        .collect();
    uow.append_outbox(events).await.unwrap();
    uow.commit().await.unwrap();
    sequences
}

/// A shipped order stored, then disputed by its buyer as a use case does it: the order as
/// it was before, and its dispute.
async fn store_disputed(store: &dyn OrderStore) -> (Order, Dispute) {
    let before = shipped();
    insert(store, std::slice::from_ref(&before)).await;
    let (disputed, dispute) = disputed_from(before.clone());
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(before.id).await.unwrap();
    uow.update_order(&disputed, before.status).await.unwrap();
    uow.insert_dispute(&dispute).await.unwrap();
    uow.commit().await.unwrap();
    (before, dispute)
}
