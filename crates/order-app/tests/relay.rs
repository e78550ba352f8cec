//! The outbox relay's decisions, on mocked ports: what is marked published, what is
//! retried when, what is parked — and that an unavailable bus never parks anything.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;
use order_app::{BusState, OutboxRelay, RelayReport, RelaySettings};
use order_domain::fixtures::t0;
use order_domain::{EventId, EventType, OrderId};
use order_ports::{
    MockClock, MockEventPublisher, MockOutbox, MockOutboxBatch, OutboxMessage, PendingEvent,
    PublishError,
};
use uuid::Uuid;

/// A row the bus already refused `refusals` times (and failed to take as many times more).
fn pending(seq: i64, refusals: u32) -> PendingEvent {
    PendingEvent {
        seq,
        attempts: refusals * 2,
        refusals,
        message: OutboxMessage {
            event_id: EventId::from_uuid(Uuid::from_u128(seq as u128)),
            event_type: EventType::OrderPaid,
            order_id: OrderId::from_uuid(Uuid::from_u128(1)),
            occurred_at: t0(),
            payload: "{}".into(),
            trace: None,
        },
    }
}

/// A failed row, whether the bus refused it, and when it is retried (`None`: parked).
type Failure = (i64, bool, Option<chrono::DateTime<chrono::Utc>>);

fn unavailable() -> Result<(), PublishError> {
    Err(PublishError::Unavailable("connection refused".into()))
}

fn refused() -> Result<(), PublishError> {
    Err(PublishError::Refused("MalformedDetail: not JSON".into()))
}

#[derive(Default, Clone)]
struct Marks {
    claim_limits: Arc<Mutex<Vec<usize>>>,
    published: Arc<Mutex<Vec<i64>>>,
    failed: Arc<Mutex<Vec<Failure>>>,
    committed: Arc<Mutex<bool>>,
}

/// One batch that claims `claimed`, journalling what the relay marks.
fn batch(claimed: Vec<PendingEvent>, marks: &Marks) -> MockOutboxBatch {
    let mut batch = MockOutboxBatch::new();
    let m = marks.clone();
    batch.expect_claim().return_once(move |limit, _| {
        m.claim_limits.lock().unwrap().push(limit);
        Ok(claimed)
    });
    let m = marks.clone();
    batch.expect_mark_published().returning(move |seqs, _| {
        m.published.lock().unwrap().extend(seqs);
        Ok(())
    });
    let m = marks.clone();
    batch
        .expect_mark_failed()
        .returning(move |seq, failure, _| {
            let failed = (seq, failure.refused, failure.retry_at);
            m.failed.lock().unwrap().push(failed);
            Ok(())
        });
    let m = marks.clone();
    batch.expect_commit().returning(move || {
        *m.committed.lock().unwrap() = true;
        Ok(())
    });
    batch
}

fn settings() -> RelaySettings {
    RelaySettings {
        batch_size: 10,
        max_attempts: 3,
        backoff: Duration::from_secs(2),
        max_backoff: Duration::from_secs(5),
        max_probe_interval: Duration::from_secs(60),
    }
}

fn relay(
    claimed: Vec<PendingEvent>,
    results: Vec<Result<(), PublishError>>,
    marks: &Marks,
) -> OutboxRelay {
    let batch = batch(claimed, marks);
    let mut outbox = MockOutbox::new();
    outbox
        .expect_begin_batch()
        .return_once(move || Ok(Box::new(batch)));
    let mut publisher = MockEventPublisher::new();
    publisher.expect_publish().return_once(move |_| results);
    let mut clock = MockClock::new();
    clock.expect_now().returning(t0);
    let settings = settings();
    OutboxRelay::new(
        Arc::new(outbox),
        Arc::new(publisher),
        Arc::new(clock),
        settings,
    )
}

/// One step of a relay over `claimed`, the publisher answering `results`.
async fn step(
    claimed: Vec<PendingEvent>,
    results: Vec<Result<(), PublishError>>,
    marks: &Marks,
) -> RelayReport {
    relay(claimed, results, marks).step().await.unwrap()
}

fn counts(published: usize, failed: usize, parked: usize) -> RelayReport {
    RelayReport {
        published,
        failed,
        parked,
    }
}

#[tokio::test]
async fn published_events_are_marked_and_committed() {
    let marks = Marks::default();
    let report = step(
        vec![pending(1, 0), pending(2, 0)],
        vec![Ok(()), Ok(())],
        &marks,
    )
    .await;
    assert_eq!(report, counts(2, 0, 0));
    assert_eq!(*marks.published.lock().unwrap(), [1, 2]);
    assert!(*marks.committed.lock().unwrap());
}

#[tokio::test]
async fn a_refused_event_is_retried_later_with_a_growing_backoff() {
    let marks = Marks::default();
    let results = vec![Ok(()), refused(), refused()];
    let report = step(
        vec![pending(1, 0), pending(2, 0), pending(3, 1)],
        results,
        &marks,
    )
    .await;
    assert_eq!(report, counts(1, 2, 0));
    assert_eq!(
        *marks.failed.lock().unwrap(),
        [
            (2, true, Some(t0() + TimeDelta::seconds(2))),
            (3, true, Some(t0() + TimeDelta::seconds(4)))
        ]
    );
    assert_eq!(*marks.published.lock().unwrap(), [1]);
}

#[tokio::test]
async fn an_event_refused_too_often_is_parked() {
    let marks = Marks::default();
    let report = step(vec![pending(1, 2)], vec![refused()], &marks).await;
    assert_eq!(report, counts(0, 0, 1));
    assert_eq!(*marks.failed.lock().unwrap(), [(1, true, None)]);
}

#[tokio::test]
async fn an_unavailable_bus_never_parks_an_event_however_often_it_failed() {
    let marks = Marks::default();
    let many = PendingEvent {
        attempts: 1_000,
        ..pending(1, 2)
    };
    let report = step(vec![many], vec![unavailable()], &marks).await;
    assert_eq!(report.parked, 0);
    assert_eq!(report.failed, 1);
    assert_eq!(
        *marks.failed.lock().unwrap(),
        [(1, false, Some(t0()))],
        "due again at once: the relay's probing paces it, not the row"
    );
}

#[tokio::test]
async fn while_the_bus_is_unavailable_the_relay_only_probes_it_with_one_event_now_and_then() {
    let marks = Marks::default();
    let batches = Arc::new(Mutex::new(vec![
        batch(vec![pending(1, 0), pending(2, 0)], &marks),
        batch(vec![pending(1, 0)], &marks),
        batch(vec![pending(1, 0), pending(2, 0)], &marks),
    ]));
    let mut outbox = MockOutbox::new();
    outbox
        .expect_begin_batch()
        .returning(move || Ok(Box::new(batches.lock().unwrap().remove(0))));
    let answers = Arc::new(Mutex::new(vec![
        vec![unavailable(), unavailable()],
        vec![Ok(())],
        vec![Ok(()), Ok(())],
    ]));
    let mut publisher = MockEventPublisher::new();
    publisher
        .expect_publish()
        .times(3)
        .returning(move |_| answers.lock().unwrap().remove(0));
    let now = Arc::new(Mutex::new(t0()));
    let mut clock = MockClock::new();
    let read = now.clone();
    clock.expect_now().returning(move || *read.lock().unwrap());
    let relay = OutboxRelay::new(
        Arc::new(outbox),
        Arc::new(publisher),
        Arc::new(clock),
        settings(),
    );

    relay.step().await.unwrap();
    assert!(matches!(
        relay.bus_state(),
        BusState::Unavailable { failures: 1, .. }
    ));
    *now.lock().unwrap() = t0() + TimeDelta::seconds(1);
    assert_eq!(
        relay.step().await.unwrap(),
        RelayReport::default(),
        "no call before the probe is due"
    );
    *now.lock().unwrap() = t0() + TimeDelta::seconds(2);
    assert_eq!(relay.step().await.unwrap().published, 1, "the probe");
    assert_eq!(relay.bus_state(), BusState::Available);
    assert_eq!(relay.step().await.unwrap().published, 2);
    assert_eq!(
        *marks.claim_limits.lock().unwrap(),
        [10, 1, 10],
        "a full batch, then one event as the probe, then full batches again"
    );
}

#[tokio::test]
async fn an_event_the_publisher_gave_no_result_for_counts_as_failed() {
    let marks = Marks::default();
    let report = step(vec![pending(1, 0), pending(2, 0)], vec![Ok(())], &marks).await;
    assert_eq!(report, counts(1, 1, 0));
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
