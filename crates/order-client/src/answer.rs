//! What the service answers, beyond the order and the dispute (which are `order-events`'
//! [`OrderView`](order_events::OrderView) and [`DisputeView`](order_events::DisputeView),
//! the very types the service writes them with).

use std::ops::Deref;

use chrono::{DateTime, Utc};
use order_domain::{Actor, EventId, OrderId, OrderStatus};
use order_events::{EventDocument, EventKind};
use serde::{Deserialize, Serialize};

/// An order or a dispute as the service shows it to this caller: the resource (which
/// reads through this wrapper, `shown.status`) and what the caller may do to it next.
/// It serializes back to the service's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown<T> {
    /// The order or the dispute.
    #[serde(flatten)]
    pub view: T,
    /// The actions this caller may take now (`complete`, `dispute`, `cancel`…), sorted;
    /// empty for a service.
    #[serde(default)]
    pub allowed_actions: Vec<String>,
}

impl<T> Shown<T> {
    /// Whether the caller may take `action` now.
    pub fn allows(&self, action: &str) -> bool {
        self.allowed_actions.iter().any(|allowed| allowed == action)
    }

    /// The resource, without what the caller may do to it.
    pub fn into_view(self) -> T {
        self.view
    }
}

impl<T> Deref for Shown<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.view
    }
}

/// A page of a list, as Django REST Framework pages: follow `next` with
/// [`crate::OrderClient::next_page`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Page<T> {
    /// How many rows the whole list has; absent for cursor pages.
    #[serde(default)]
    pub count: Option<u64>,
    /// `Some(false)` when `count` is a floor rather than the exact number (very long
    /// filtered lists).
    #[serde(default)]
    pub count_exact: Option<bool>,
    /// The next page's URL, if there is one.
    #[serde(default)]
    pub next: Option<String>,
    /// The previous page's URL, if there is one.
    #[serde(default)]
    pub previous: Option<String>,
    /// This page's rows.
    pub results: Vec<T>,
}

/// One change of an order, as its history shows it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct HistoryEntry {
    /// 1, 2, 3… for this order, gap-free, in the order the changes committed.
    pub sequence: u64,
    /// What happened.
    pub event_type: EventKind,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who made it happen.
    pub actor: Actor,
    /// The order's status before.
    pub from_status: OrderStatus,
    /// The order's status after.
    pub to_status: OrderStatus,
    /// What the change carried, by event type (a tracking number, a settlement, a
    /// reason…).
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// A page of the replay feed: ask again from `next_after` to go on.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FeedPage {
    /// The events after the position asked for, in feed order.
    pub results: Vec<FeedEvent>,
    /// The position to ask from next (the last event's, or the one asked for when there
    /// was none).
    pub next_after: u64,
}

/// One event of the replay feed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FeedEvent {
    /// Its place in the feed, across every order.
    pub position: u64,
    /// Its id, as delivered on the bus.
    pub event_id: EventId,
    /// What happened.
    pub event_type: EventKind,
    /// The order it happened to.
    pub order_id: OrderId,
    /// Its place among its order's events.
    pub sequence: u64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The document as delivered on the bus.
    pub detail: EventDocument,
}

/// The answer to a request to erase a user's personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct ErasureAccepted {
    /// Their orders whose personal data is erased (the ended ones).
    pub erased: u64,
    /// Their orders still open, each erased as soon as it ends.
    pub pending: u64,
}

/// What became of a carrier's update.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CarrierReceipt {
    /// The update's id, as sent.
    pub event_id: String,
    /// Applied now, applied before, or for no order.
    pub result: CarrierResult,
    /// The orders it applied to.
    pub order_ids: Vec<OrderId>,
}

/// What became of a carrier's update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarrierResult {
    /// Applied now.
    Applied,
    /// Applied before: nothing changed now.
    Repeat,
    /// No shipped or delivered order has this parcel; recorded nowhere.
    NoOrder,
}
