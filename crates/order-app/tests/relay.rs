//! The outbox relay's decisions, on mocked ports: what is marked published, what is
//! retried when, what is parked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;
use order_app::{OutboxRelay, RelayReport, RelaySettings};
use order_domain::fixtures::t0;
use order_domain::{EventId, EventType, OrderId};
use order_ports::{
    MockClock, MockEventPublisher, MockOutbox, MockOutboxBatch, OutboxMessage, PendingEvent,
};
use uuid::Uuid;

fn pending(seq: i64, attempts: u32) -> PendingEvent {
    PendingEvent {
        seq,
        attempts,
        message: OutboxMessage {
            event_id: EventId::from_uuid(Uuid::from_u128(seq as u128)),
            event_type: EventType::OrderPaid,
            order_id: OrderId::from_uuid(Uuid::from_u128(1)),
            occurred_at: t0(),
            payload: "{}".into(),
        },
    }
}

/// A failed row and when it is retried (`None`: parked).
type Failure = (i64, Option<chrono::DateTime<chrono::Utc>>);

#[derive(Default, Clone)]
struct Marks {
    published: Arc<Mutex<Vec<i64>>>,
    failed: Arc<Mutex<Vec<Failure>>>,
    committed: Arc<Mutex<bool>>,
}

fn relay(
    claimed: Vec<PendingEvent>,
    results: Vec<Result<(), String>>,
    marks: &Marks,
) -> OutboxRelay {
    let mut batch = MockOutboxBatch::new();
    batch.expect_claim().return_once(move |_, _| Ok(claimed));
    let m = marks.clone();
    batch.expect_mark_published().returning(move |seqs, _| {
        m.published.lock().unwrap().extend(seqs);
        Ok(())
    });
    let m = marks.clone();
    batch
        .expect_mark_failed()
        .returning(move |seq, _, retry_at, _| {
            m.failed.lock().unwrap().push((seq, retry_at));
            Ok(())
        });
    let m = marks.clone();
    batch.expect_commit().returning(move || {
        *m.committed.lock().unwrap() = true;
        Ok(())
    });
    let mut outbox = MockOutbox::new();
    outbox
        .expect_begin_batch()
        .return_once(move || Ok(Box::new(batch)));
    let mut publisher = MockEventPublisher::new();
    publisher.expect_publish().return_once(move |_| results);
    let mut clock = MockClock::new();
    clock.expect_now().returning(t0);
    let settings = RelaySettings {
        batch_size: 10,
        max_attempts: 3,
        backoff: Duration::from_secs(2),
        max_backoff: Duration::from_secs(5),
    };
    OutboxRelay::new(
        Arc::new(outbox),
        Arc::new(publisher),
        Arc::new(clock),
        settings,
    )
}

#[tokio::test]
async fn published_events_are_marked_and_committed() {
    let marks = Marks::default();
    let report = relay(
        vec![pending(1, 0), pending(2, 0)],
        vec![Ok(()), Ok(())],
        &marks,
    )
    .step()
    .await
    .unwrap();
    assert_eq!(
        report,
        RelayReport {
            published: 2,
            failed: 0,
            parked: 0
        }
    );
    assert_eq!(*marks.published.lock().unwrap(), [1, 2]);
    assert!(*marks.committed.lock().unwrap());
}

#[tokio::test]
async fn a_failed_event_is_retried_later_with_a_growing_backoff() {
    let marks = Marks::default();
    let results = vec![Ok(()), Err("throttled".into()), Err("throttled".into())];
    let report = relay(
        vec![pending(1, 0), pending(2, 0), pending(3, 1)],
        results,
        &marks,
    )
    .step()
    .await
    .unwrap();
    assert_eq!(
        report,
        RelayReport {
            published: 1,
            failed: 2,
            parked: 0
        }
    );
    assert_eq!(
        *marks.failed.lock().unwrap(),
        [
            (2, Some(t0() + TimeDelta::seconds(2))),
            (3, Some(t0() + TimeDelta::seconds(4)))
        ]
    );
    assert_eq!(*marks.published.lock().unwrap(), [1]);
}

#[tokio::test]
async fn an_event_failing_too_often_is_parked() {
    let marks = Marks::default();
    let report = relay(vec![pending(1, 2)], vec![Err("bad".into())], &marks)
        .step()
        .await
        .unwrap();
    assert_eq!(
        report,
        RelayReport {
            published: 0,
            failed: 0,
            parked: 1
        }
    );
    assert_eq!(*marks.failed.lock().unwrap(), [(1, None)]);
}

#[tokio::test]
async fn an_event_the_publisher_gave_no_result_for_counts_as_failed() {
    let marks = Marks::default();
    let report = relay(vec![pending(1, 0), pending(2, 0)], vec![Ok(())], &marks)
        .step()
        .await
        .unwrap();
    assert_eq!(
        report,
        RelayReport {
            published: 1,
            failed: 1,
            parked: 0
        }
    );
}

#[tokio::test]
async fn nothing_due_publishes_nothing() {
    let mut batch = MockOutboxBatch::new();
    batch.expect_claim().return_once(|_, _| Ok(vec![]));
    let mut outbox = MockOutbox::new();
    outbox
        .expect_begin_batch()
        .return_once(move || Ok(Box::new(batch)));
    let mut publisher = MockEventPublisher::new();
    publisher.expect_publish().never();
    let mut clock = MockClock::new();
    clock.expect_now().returning(t0);
    let relay = OutboxRelay::new(
        Arc::new(outbox),
        Arc::new(publisher),
        Arc::new(clock),
        RelaySettings::default(),
    );
    assert_eq!(relay.step().await.unwrap(), RelayReport::default());
}
