//! The shapes of answers this edge adds to the views `order-events` defines: what a
//! caller may do next, an order's history, the replay feed. Each is serialized straight from
//! its type and described in the OpenAPI document by the same type, so the two cannot part.

use chrono::{DateTime, Utc};
use order_domain::{EventId, OrderId, OrderStatus, UserId};
use order_ports::{FeedEvent, HistoryEntry};
use serde::Serialize;
use utoipa::ToSchema;

/// A representation followed by what the caller may do to it now: serialized straight from
/// the typed view, without building a JSON tree first (a list page renders twenty).
#[derive(Serialize)]
pub struct WithActions<V> {
    #[serde(flatten)]
    pub view: V,
    pub allowed_actions: Vec<&'static str>,
}

/// One event of an order's history.
#[derive(Serialize, ToSchema)]
#[schema(as = HistoryEntry)]
pub struct HistoryEntryView {
    /// 1, 2, 3… for this order, gap-free, in the order the changes committed.
    sequence: u64,
    event_type: &'static str,
    occurred_at: DateTime<Utc>,
    actor: ActorView,
    /// The order's status before the change (equal to `to_status` when only the dispute
    /// changed).
    from_status: OrderStatus,
    to_status: OrderStatus,
    #[schema(schema_with = history_details)]
    details: serde_json::Value,
}

impl From<&HistoryEntry> for HistoryEntryView {
    fn from(entry: &HistoryEntry) -> HistoryEntryView {
        let story = &entry.story;
        HistoryEntryView {
            sequence: story.sequence,
            event_type: entry.event_type.as_str(),
            occurred_at: entry.occurred_at,
            actor: ActorView {
                kind: story.actor.kind(),
                id: story.actor.id(),
            },
            from_status: story.from_status,
            to_status: story.to_status,
            details: story.details.clone(),
        }
    }
}

fn history_details() -> utoipa::openapi::Ref {
    utoipa::openapi::Ref::from_schema_name("HistoryDetails")
}

/// Who made a change: `buyer`, `seller`, `admin` (with the user's id), `service` or
/// `system` (id null).
#[derive(Serialize, ToSchema)]
#[schema(as = Actor)]
struct ActorView {
    #[serde(rename = "type")]
    #[schema(value_type = String, pattern = "^(buyer|seller|admin|service|system)$")]
    kind: &'static str,
    #[schema(value_type = Option<uuid::Uuid>)]
    id: Option<UserId>,
}

/// One event of the replay feed.
#[derive(Serialize, ToSchema)]
#[schema(as = FeedEvent)]
pub struct FeedEventView {
    /// The event's place in the feed, across every order.
    position: u64,
    #[schema(value_type = uuid::Uuid)]
    event_id: EventId,
    event_type: &'static str,
    #[schema(value_type = uuid::Uuid)]
    order_id: OrderId,
    /// The event's place among its order's events.
    sequence: u64,
    occurred_at: DateTime<Utc>,
    /// Exactly the `Detail` EventBridge gets.
    #[schema(value_type = Object)]
    detail: serde_json::Value,
}

impl From<&FeedEvent> for FeedEventView {
    fn from(event: &FeedEvent) -> FeedEventView {
        FeedEventView {
            position: event.position,
            event_id: event.event_id,
            event_type: event.event_type.as_str(),
            order_id: event.order_id,
            sequence: event.sequence,
            occurred_at: event.occurred_at,
            detail: serde_json::from_str::<serde_json::Value>(&event.payload)
                .map(without_admin_notes)
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Events written by earlier versions kept the admin's notes in the outbox; the feed shows
/// them as every event now has them: null.
fn without_admin_notes(mut detail: serde_json::Value) -> serde_json::Value {
    if let Some(notes) = detail
        .get_mut("dispute")
        .and_then(|dispute| dispute.get_mut("admin_notes"))
    {
        *notes = serde_json::Value::Null;
    }
    detail
}

/// A page of the replay feed: ask again with `after = next_after` to go on.
#[derive(Serialize, ToSchema)]
pub struct EventFeed {
    pub results: Vec<FeedEventView>,
    pub next_after: u64,
}
