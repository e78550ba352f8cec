//! The outbox as the relay sees it: one head event per order, locked rows skipped, failures
//! retried later, parked rows set aside.

use chrono::{DateTime, TimeDelta, Utc};
use order_domain::fixtures::*;
use order_domain::{Actor, EventId, EventType, Order, OrderId, OrderStatus};
use order_ports::{OrderStore, Outbox, OutboxMessage, PublishFailure, RecordedEvent, StoryLine};
use order_postgres::test_db::TestDatabase;
use order_postgres::PgStore;
use uuid::Uuid;

fn message(n: u128, order: u128) -> OutboxMessage {
    OutboxMessage {
        event_id: EventId::from_uuid(Uuid::from_u128(n)),
        event_type: EventType::OrderPaid,
        order_id: OrderId::from_uuid(Uuid::from_u128(order)),
        occurred_at: t0(),
        payload: format!("{{\"n\": {n}}}"),
        trace: None,
    }
}

/// Event `n` of order `order` as a unit of work records it, `n` its sequence number.
fn recorded(n: u128, order: u128) -> RecordedEvent {
    RecordedEvent {
        message: message(n, order),
        story: StoryLine {
            sequence: n as u64,
            actor: Actor::System,
            from_status: OrderStatus::Paid,
            to_status: OrderStatus::Paid,
            details: serde_json::json!({}),
        },
    }
}

/// Events 1, 2 of order A (100) and 3 of order B (200), written in that order.
async fn seeded() -> (TestDatabase, PgStore) {
    let db = TestDatabase::new();
    let store = PgStore::new(db.pool());
    let mut uow = store.begin().await.unwrap();
    uow.append_outbox(vec![recorded(1, 100), recorded(2, 100), recorded(3, 200)])
        .await
        .unwrap();
    uow.commit().await.unwrap();
    (db, store)
}

fn ids(events: &[order_ports::PendingEvent]) -> Vec<u128> {
    events
        .iter()
        .map(|e| e.message.event_id.as_uuid().as_u128())
        .collect()
}

/// The bus's refusal of an event with `error`, due again at `retry_at` (parked at `None`).
fn refusal(error: &str, retry_at: Option<DateTime<Utc>>) -> PublishFailure {
    PublishFailure {
        error: error.into(),
        refused: true,
        retry_at,
    }
}

/// Claims the seeded events and parks the first as refused ("poison").
async fn park_first(store: &PgStore) {
    let mut batch = store.begin_batch().await.unwrap();
    let claimed = batch.claim(10, t0()).await.unwrap();
    batch
        .mark_failed(claimed[0].seq, refusal("poison", None), t0())
        .await
        .unwrap();
    batch.commit().await.unwrap();
}

#[tokio::test]
async fn only_each_orders_oldest_unpublished_event_is_claimable() {
    let (_db, store) = seeded().await;
    let mut batch = store.begin_batch().await.unwrap();
    let first = batch.claim(10, t0()).await.unwrap();
    assert_eq!(ids(&first), [1, 3]);
    assert_eq!(first[0].message, message(1, 100));
    batch
        .mark_published(vec![first[0].seq, first[1].seq], t0())
        .await
        .unwrap();
    batch.commit().await.unwrap();

    let mut batch = store.begin_batch().await.unwrap();
    assert_eq!(ids(&batch.claim(10, t0()).await.unwrap()), [2]);
}

#[tokio::test]
async fn a_second_relay_skips_what_the_first_holds() {
    let (_db, store) = seeded().await;
    let mut a = store.begin_batch().await.unwrap();
    let mut b = store.begin_batch().await.unwrap();
    assert_eq!(ids(&a.claim(1, t0()).await.unwrap()), [1]);
    assert_eq!(
        ids(&b.claim(10, t0()).await.unwrap()),
        [3],
        "order A's head is locked, and its next event waits"
    );
}

#[tokio::test]
async fn a_failed_event_waits_until_its_retry_time_and_holds_back_its_order() {
    let (_db, store) = seeded().await;
    let mut batch = store.begin_batch().await.unwrap();
    let claimed = batch.claim(10, t0()).await.unwrap();
    batch
        .mark_failed(
            claimed[0].seq,
            refusal("MalformedDetail", Some(t0() + TimeDelta::seconds(30))),
            t0(),
        )
        .await
        .unwrap();
    batch
        .mark_published(vec![claimed[1].seq], t0())
        .await
        .unwrap();
    batch.commit().await.unwrap();

    let mut batch = store.begin_batch().await.unwrap();
    assert_eq!(
        batch
            .claim(10, t0() + TimeDelta::seconds(10))
            .await
            .unwrap(),
        vec![]
    );
    drop(batch);
    let mut batch = store.begin_batch().await.unwrap();
    let retried = batch
        .claim(10, t0() + TimeDelta::seconds(30))
        .await
        .unwrap();
    assert_eq!(
        (ids(&retried), retried[0].attempts, retried[0].refusals),
        (vec![1], 1, 1)
    );
}

#[tokio::test]
async fn a_parked_event_holds_back_its_orders_later_events_and_no_other_order() {
    let (_db, store) = seeded().await;
    park_first(&store).await;

    let stats = store.stats(t0() + TimeDelta::seconds(60)).await.unwrap();
    assert_eq!(
        (stats.pending, stats.parked, stats.held_back),
        (2, 1, 1),
        "event 2 waits behind parked event 1"
    );
    assert_eq!(stats.lag_seconds, 60.0);
    let mut batch = store.begin_batch().await.unwrap();
    assert_eq!(
        ids(&batch.claim(10, t0()).await.unwrap()),
        [3],
        "order 100 waits; order 200 does not"
    );
    drop(batch);

    let parked = store.parked_events().await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].event_id.as_u128(), 1);
    assert_eq!((parked[0].refusals, parked[0].held_back), (1, 1));
    assert_eq!(parked[0].last_error.as_deref(), Some("poison"));
}

#[tokio::test]
async fn a_requeued_event_goes_out_first_then_its_orders_later_events() {
    let (_db, store) = seeded().await;
    park_first(&store).await;
    let other_order = Uuid::from_u128(200);
    assert_eq!(
        store.requeue_parked(Some(other_order), t0()).await.unwrap(),
        0
    );
    assert_eq!(
        store
            .requeue_parked(Some(Uuid::from_u128(100)), t0())
            .await
            .unwrap(),
        1
    );
    let mut batch = store.begin_batch().await.unwrap();
    let claimed = batch.claim(10, t0()).await.unwrap();
    assert_eq!(ids(&claimed), [1, 3]);
    assert_eq!(claimed[0].refusals, 0, "its refusals are forgotten");
    batch
        .mark_published(claimed.iter().map(|e| e.seq).collect(), t0())
        .await
        .unwrap();
    batch.commit().await.unwrap();
    let mut batch = store.begin_batch().await.unwrap();
    assert_eq!(ids(&batch.claim(10, t0()).await.unwrap()), [2]);
    assert!(store.parked_events().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_events_a_use_case_writes_are_claimable_once_committed() {
    let db = TestDatabase::new();
    let store = PgStore::new(db.pool());
    let placed: Order = placed();
    let mut uow = store.begin().await.unwrap();
    uow.insert_order(&placed).await.unwrap();
    uow.append_outbox(vec![recorded(9, placed.id.as_uuid().as_u128())])
        .await
        .unwrap();
    let mut relay = store.begin_batch().await.unwrap();
    assert_eq!(
        relay.claim(10, t0()).await.unwrap(),
        vec![],
        "uncommitted events are invisible"
    );
    drop(relay);
    uow.commit().await.unwrap();
    let mut relay = store.begin_batch().await.unwrap();
    assert_eq!(ids(&relay.claim(10, t0()).await.unwrap()), [9]);
}

/// Relays racing over the same rows: whichever commits first, a row is claimed once and each
/// order's events come out in their written order. A relay whose claim began before another
/// committed must not take the row that other just published.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_relays_claim_every_event_exactly_once_in_order() {
    const ORDERS: u128 = 3;
    const PER_ORDER: u128 = 40;
    let db = TestDatabase::new();
    let store = PgStore::new(db.pool());
    let mut uow = store.begin().await.unwrap();
    let written: Vec<RecordedEvent> = (0..PER_ORDER)
        .flat_map(|n| (0..ORDERS).map(move |order| recorded(n * ORDERS + order, 100 + order)))
        .collect();
    uow.append_outbox(written).await.unwrap();
    uow.commit().await.unwrap();

    let published = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u128, u128)>::new()));
    let relays = (0..6).map(|_| {
        let (store, published) = (store.clone(), published.clone());
        tokio::spawn(async move {
            loop {
                let mut batch = store.begin_batch().await.unwrap();
                let claimed = batch.claim(2, t0()).await.unwrap();
                if claimed.is_empty() {
                    drop(batch);
                    if store.stats(t0()).await.unwrap().pending == 0 {
                        return;
                    }
                    tokio::task::yield_now().await;
                    continue;
                }
                // Recorded under the row locks, before the commit releases them: the record's
                // order is the publication order.
                published.lock().unwrap().extend(claimed.iter().map(|e| {
                    let order = e.message.order_id.as_uuid().as_u128();
                    (order, e.message.event_id.as_uuid().as_u128())
                }));
                let seqs = claimed.iter().map(|e| e.seq).collect();
                batch.mark_published(seqs, t0()).await.unwrap();
                batch.commit().await.unwrap();
            }
        })
    });
    for relay in relays.collect::<Vec<_>>() {
        relay.await.unwrap();
    }

    let published = published.lock().unwrap().clone();
    assert_eq!(
        published.len(),
        (ORDERS * PER_ORDER) as usize,
        "each event once"
    );
    for order in 100..100 + ORDERS {
        let events: Vec<u128> = published
            .iter()
            .filter(|(o, _)| *o == order)
            .map(|(_, e)| *e)
            .collect();
        let expected: Vec<u128> = (0..PER_ORDER).map(|n| n * ORDERS + order - 100).collect();
        assert_eq!(events, expected, "order {order}'s events in written order");
    }
}
