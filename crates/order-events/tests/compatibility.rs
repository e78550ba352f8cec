//! What a consumer may rely on: a document reads back as written, a newer service's
//! unknown event types and fields do not break it, and the money adds up the same way.

use order_domain::fixtures::*;
use order_domain::{EventId, EventType, Settlement};
use order_events::{EventDocument, EventKind, EVENT_VERSION};

fn completed() -> EventDocument {
    let changed = shipped().complete(later(9)).unwrap();
    let event_id = EventId::from_uuid(uuid::Uuid::from_u128(7));
    EventDocument::new(event_id, &changed.events[0], 5)
}

#[test]
fn a_document_reads_back_as_it_was_written() {
    let written = completed();
    let json = serde_json::to_value(&written).unwrap();
    assert_eq!(json["event_type"], "order.completed");
    assert_eq!(json["version"], EVENT_VERSION);
    assert_eq!(json["sequence"], 5);
    let read: EventDocument = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(read, written);
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        json,
        "field for field"
    );
}

#[test]
fn an_unknown_event_type_and_unknown_fields_do_not_break_an_older_reader() {
    let mut json = serde_json::to_value(completed()).unwrap();
    json["event_type"] = "order.teleported".into();
    json["hologram"] = serde_json::json!({"colour": "blue"});
    json["order"]["loyalty_points"] = 12.into();
    let read: EventDocument = serde_json::from_value(json).unwrap();
    assert_eq!(
        read.event_type,
        EventKind::Unknown("order.teleported".into())
    );
    assert_eq!(read.order.id, shipped().id);
}

#[test]
fn a_consumer_computes_the_settlement_the_service_published() {
    let read = completed();
    assert_eq!(read.event_type, EventKind::Known(EventType::OrderCompleted));
    let recomputed = Settlement::release(read.order.total, read.order.fee_amount);
    assert_eq!(read.settlement, Some(recomputed));
    assert_eq!(read.settlement.unwrap().total(), read.order.total);
}
