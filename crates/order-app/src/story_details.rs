//! What an event adds to its order's story. The representations of orders, disputes and
//! events themselves — one shape for HTTP answers and published events — are
//! `order-events`', shared with the services that consume the events.

use order_domain::DomainEvent;
use serde_json::json;

/// What an event adds to its order's story, for the history: only what the
/// event itself brings, never the order's snapshot nor an admin's notes.
pub fn story_details(event: &DomainEvent) -> serde_json::Value {
    use order_domain::EventType::*;
    let order = &event.order;
    let mut details = serde_json::Map::new();
    let mut put = |key: &str, value: serde_json::Value| {
        details.insert(key.to_owned(), value);
    };
    match event.event_type {
        OrderCreated => {
            put("source", json!(order.source));
            put("total", json!(order.total()));
        }
        OrderPaid => put("escrow_id", json!(order.escrow_id)),
        OrderShipped => {
            put("tracking_number", json!(order.tracking_number));
            put("carrier", json!(order.carrier));
        }
        OrderDelivered => put("delivered_at", json!(order.delivered_at)),
        OrderDeliveryProblem => put("delivery_problem", json!(order.delivery_problem)),
        OrderCancelled => put("reason", json!(order.cancellation_reason)),
        OrderShipOverdue => put("ship_by", json!(order.ship_by)),
        OrderDeadlineExtended => {
            if let Some(extension) = &event.extension {
                put("deadline", json!(extension.deadline));
                put("from", json!(extension.from));
                put("to", json!(extension.to));
            }
        }
        OrderCompleted
        | OrderRefunded
        | OrderDisputed
        | DisputeResolved
        | DisputeUpdated
        | DisputeEscalated
        | DisputeEvidenceAdded
        | DisputeOfferMade
        | DisputeOfferDeclined
        | OrderPersonalDataErased => {}
    }
    if let Some(dispute) = &event.dispute {
        put("dispute_id", json!(dispute.id));
        put("dispute_status", json!(dispute.status));
        match event.event_type {
            OrderDisputed => put("reason", json!(dispute.reason)),
            DisputeResolved => {
                put("resolution", json!(dispute.resolution));
                put("refund_amount", json!(dispute.refund_amount));
            }
            DisputeEvidenceAdded => put("urls", json!(event.new_evidence)),
            _ => {}
        }
    }
    if let Some(offer) = &event.offer {
        put("offer_id", json!(offer.id));
        put("refund_amount", json!(offer.refund_amount));
    }
    if let Some(settlement) = &event.settlement {
        put("settlement", json!(settlement));
    }
    // Why a seller or an admin acted (a cancellation's reason is already there).
    if let Some(reason) = &event.reason {
        details.entry("reason").or_insert_with(|| json!(reason));
    }
    serde_json::Value::Object(details)
}
