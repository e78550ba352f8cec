//! An order's history and the replay feed: events in sequence, positioned in commit order.

use super::*;

pub async fn the_history_pages_an_orders_events_in_sequence<S: OrderStore>(store: Arc<S>) {
    let (order, other) = (nth(placed(), 1), nth(placed(), 2));
    insert(store.as_ref(), &[order.clone(), other.clone()]).await;
    record_events(store.as_ref(), &order, 2, 1).await;
    record_events(store.as_ref(), &other, 1, 3).await;
    record_events(store.as_ref(), &order, 1, 4).await;

    let first = store.history(order.id, 0, 2).await.unwrap();
    let sequences = |page: &Page<order_ports::HistoryEntry>| {
        page.items
            .iter()
            .map(|entry| entry.story.sequence)
            .collect::<Vec<_>>()
    };
    assert_eq!(sequences(&first), [1, 2]);
    assert!(first.has_more);
    assert_eq!(first.total.map(|total| total.count()), Some(3));
    assert_eq!(first.items[0], history_entry(&event(&order, 1, 1)));
    let second = store.history(order.id, 2, 2).await.unwrap();
    assert_eq!(sequences(&second), [3]);
    assert!(!second.has_more);
}

fn history_entry(recorded: &RecordedEvent) -> order_ports::HistoryEntry {
    order_ports::HistoryEntry {
        event_id: recorded.message.event_id,
        event_type: recorded.message.event_type,
        occurred_at: recorded.message.occurred_at,
        story: recorded.story.clone(),
    }
}

pub async fn the_feed_positions_committed_events_in_commit_order<S: OrderStore>(store: Arc<S>) {
    let (a, b) = (nth(placed(), 1), nth(placed(), 2));
    insert(store.as_ref(), &[a.clone(), b.clone()]).await;
    record_events(store.as_ref(), &b, 1, 1).await;
    record_events(store.as_ref(), &a, 2, 2).await;
    // An uncommitted event is not positioned.
    let mut open = store.begin().await.unwrap();
    open.lock_order(b.id).await.unwrap();
    let sequence = open.reserve_sequences(b.id, 1).await.unwrap();
    open.append_outbox(vec![event(&b, sequence, 9)])
        .await
        .unwrap();

    assert_eq!(store.assign_feed_positions(100).await.unwrap(), 3);
    drop(open);
    let feed = store.feed(0, 100).await.unwrap();
    let seen: Vec<_> = feed
        .iter()
        .map(|event| (event.order_id, event.sequence, event.payload.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (b.id, 1, "{\"n\":1}"),
            (a.id, 1, "{\"n\":2}"),
            (a.id, 2, "{\"n\":3}")
        ]
    );
    let positions: Vec<u64> = feed.iter().map(|event| event.position).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{positions:?}"
    );
    let rest = store.feed(positions[0], 100).await.unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(store.assign_feed_positions(100).await.unwrap(), 0);
}
