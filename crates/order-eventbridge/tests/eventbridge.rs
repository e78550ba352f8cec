//! The EventBridge publisher against a local emulator: the entry shape consumers rely on, calls of
//! at most 10 entries, and each entry's own failure reported.

use std::time::Duration;

use aws_config::BehaviorVersion;
use chrono::{TimeZone, Utc};
use order_domain::{EventId, EventType, OrderId};
use order_eventbridge::emulator::{Emulator, REGION};
use order_eventbridge::EventBridgePublisher;
use order_ports::{EventPublisher, OutboxMessage, PublishError};
use uuid::Uuid;

async fn publisher(emulator: &Emulator, bus: &str) -> EventBridgePublisher {
    publisher_at(emulator.url(), bus).await
}

/// A publisher to `bus` of whatever answers as EventBridge at `endpoint`.
async fn publisher_at(endpoint: String, bus: &str) -> EventBridgePublisher {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_eventbridge::config::Credentials::for_tests())
        .load()
        .await;
    EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&config),
        bus,
        "marketplace.orders",
    )
}

fn event(n: u128, payload: &str) -> OutboxMessage {
    OutboxMessage {
        event_id: EventId::from_uuid(Uuid::from_u128(n)),
        event_type: EventType::OrderShipped,
        order_id: OrderId::from_uuid(Uuid::from_u128(7)),
        occurred_at: Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap(),
        payload: payload.to_owned(),
        trace: None,
    }
}

#[tokio::test]
async fn events_arrive_on_the_bus_with_source_detail_type_and_detail() {
    let emulator = Emulator::start().await;
    let queue = emulator.route("orders", "marketplace.orders").await;
    let events: Vec<_> = (1..=12)
        .map(|n| event(n, &format!(r#"{{"event_id": "{n}", "n": {n}}}"#)))
        .collect();
    let results = publisher(&emulator, "orders").await.publish(events).await;
    assert_eq!(
        results,
        vec![Ok(()); 12],
        "12 events in two calls of at most 10"
    );
    let received = emulator.receive(&queue, 12, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 12);
    let mut numbers: Vec<i64> = received
        .iter()
        .map(|e| e["detail"]["n"].as_i64().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=12).collect::<Vec<_>>());
    for envelope in &received {
        assert_eq!(envelope["source"], "marketplace.orders");
        assert_eq!(envelope["detail-type"], "order.shipped");
    }
}

#[tokio::test]
async fn an_entry_refused_inside_a_successful_call_is_reported_alone() {
    let emulator = Emulator::start().await;
    emulator.route("orders", "marketplace.orders").await;
    let events = vec![
        event(1, r#"{"ok": 1}"#),
        event(2, "not json"),
        event(3, r#"{"ok": 3}"#),
    ];
    let results = publisher(&emulator, "orders").await.publish(events).await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    match &results[1] {
        Err(PublishError::Refused(error)) => assert!(error.contains("MalformedDetail"), "{error}"),
        other => panic!("a malformed entry is refused for good: {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_bus_fails_every_event() {
    let mut emulator = Emulator::start().await;
    let publisher = publisher(&emulator, "orders").await;
    emulator.stop();
    let results = publisher
        .publish(vec![event(1, "{}"), event(2, "{}")])
        .await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(PublishError::Unavailable(_)))),
        "an unreachable bus is unavailable, never a refusal: {results:?}"
    );
}

#[tokio::test]
async fn the_probe_tells_a_reachable_bus_from_a_missing_or_unreachable_one() {
    let mut emulator = Emulator::start().await;
    emulator.route("orders", "marketplace.orders").await;
    assert_eq!(publisher(&emulator, "orders").await.probe().await, Ok(()));
    assert!(publisher(&emulator, "no-such-bus")
        .await
        .probe()
        .await
        .is_err());
    let orders = publisher(&emulator, "orders").await;
    emulator.stop();
    assert!(orders.probe().await.is_err());
}

/// EventBridge as the SDK sees it, recording every PutEvents body: the emulator keeps no
/// `TraceHeader`, so the entry is read as sent.
#[tokio::test]
async fn an_events_trace_is_sent_as_the_entrys_trace_header() {
    use wiremock::matchers::{header, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let bus = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-amz-target", "AWSEvents.PutEvents"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(
                    r#"{"FailedEntryCount":0,"Entries":[{"EventId":"a"},{"EventId":"b"}]}"#,
                ),
        )
        .mount(&bus)
        .await;
    let publisher = publisher_at(bus.uri(), "orders").await;
    let traced = OutboxMessage {
        trace: order_ports::trace::TraceContext::parse(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ..event(1, r#"{"n": 1}"#)
    };
    let results = publisher
        .publish(vec![traced, event(2, r#"{"n": 2}"#)])
        .await;
    assert_eq!(results, vec![Ok(()), Ok(())]);

    let sent = bus.received_requests().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        body["Entries"][0]["TraceHeader"],
        "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1"
    );
    assert!(
        body["Entries"][1].get("TraceHeader").is_none(),
        "an event written outside any trace carries none: {body}"
    );
}
