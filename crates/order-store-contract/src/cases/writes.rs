//! Writes: what a unit of work commits reads back, what it drops leaves nothing, and
//! the conflicts, staleness and locks that keep two writers from losing each other's work.

use super::*;

fn is_conflict<T: std::fmt::Debug>(outcome: &Result<T, StoreError>) -> bool {
    matches!(outcome, Err(StoreError::Conflict(_)))
}

pub async fn a_committed_order_reads_back_and_an_uncommitted_one_does_not<S: OrderStore>(
    store: Arc<S>,
) {
    let order = placed();
    let mut uow = store.begin().await.unwrap();
    uow.insert_order(&order).await.unwrap();
    assert_eq!(
        store.order(order.id).await.unwrap(),
        None,
        "not before commit"
    );
    uow.commit().await.unwrap();
    assert_eq!(store.order(order.id).await.unwrap(), Some(order));
}

pub async fn a_dropped_unit_of_work_leaves_nothing_behind<S: OrderStore>(store: Arc<S>) {
    let order = placed();
    let mut uow = store.begin().await.unwrap();
    uow.insert_order(&order).await.unwrap();
    drop(uow);
    assert_eq!(store.order(order.id).await.unwrap(), None);
    // Its listing is free: nothing of the dropped insert remains.
    insert(store.as_ref(), std::slice::from_ref(&order)).await;
    assert_eq!(store.order(order.id).await.unwrap(), Some(order));
}

pub async fn a_second_live_order_for_a_listing_conflicts<S: OrderStore>(store: Arc<S>) {
    let first = placed();
    insert(store.as_ref(), std::slice::from_ref(&first)).await;
    let mut second = nth(placed(), 2).into_data();
    second.listing_id = first.listing_id;
    let second = Order::rehydrate(second);
    let mut uow = store.begin().await.unwrap();
    let outcome = async {
        uow.insert_order(&second).await?;
        uow.commit().await
    }
    .await;
    assert!(is_conflict(&outcome), "{outcome:?}");
    assert_eq!(store.order(second.id).await.unwrap(), None);
    drop(uow);

    // Once the first is cancelled, the listing can be ordered again.
    let cancelled = first
        .cancel(CancellationReason::parse("unpaid").unwrap(), later(1))
        .unwrap()
        .value;
    let mut uow = store.begin().await.unwrap();
    uow.update_order(&cancelled, OrderStatus::PendingPayment)
        .await
        .unwrap();
    uow.insert_order(&second).await.unwrap();
    assert_eq!(
        uow.lock_live_order_for_listing(first.listing_id)
            .await
            .unwrap(),
        Some(second)
    );
    uow.commit().await.unwrap();
}

pub async fn an_update_from_a_status_the_order_left_is_stale<S: OrderStore>(store: Arc<S>) {
    let order = placed();
    insert(store.as_ref(), std::slice::from_ref(&order)).await;
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(order.id).await.unwrap();
    let outcome = async {
        uow.update_order(&paid(), OrderStatus::Paid).await?;
        uow.commit().await
    }
    .await;
    assert_eq!(outcome, Err(StoreError::Stale));
    drop(uow);
    assert_eq!(store.order(order.id).await.unwrap(), Some(order.clone()));

    update(store.as_ref(), &order, &paid()).await;
    assert_eq!(store.order(order.id).await.unwrap(), Some(paid()));
}

pub async fn a_locked_order_waits_for_the_unit_of_work_holding_it<S: OrderStore + 'static>(
    store: Arc<S>,
) {
    let order = placed();
    insert(store.as_ref(), std::slice::from_ref(&order)).await;
    let mut first = store.begin().await.unwrap();
    first.lock_order(order.id).await.unwrap();

    let waiting = store.clone();
    let second = tokio::spawn(async move {
        let mut uow = waiting.begin().await.unwrap();
        let seen = uow.lock_order(order.id).await.unwrap();
        drop(uow);
        seen
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!second.is_finished(), "the second waits for the lock");

    first
        .update_order(&paid(), OrderStatus::PendingPayment)
        .await
        .unwrap();
    first.commit().await.unwrap();
    let seen = second.await.unwrap();
    assert_eq!(
        seen.map(|order| order.status),
        Some(OrderStatus::Paid),
        "and reads the change"
    );
}

pub async fn events_are_numbered_without_gaps_in_commit_order<S: OrderStore>(store: Arc<S>) {
    let order = placed();
    insert(store.as_ref(), std::slice::from_ref(&order)).await;
    assert_eq!(record_events(store.as_ref(), &order, 2, 1).await, [1, 2]);

    // Numbers reserved by a unit of work that does not commit are handed out again.
    let mut dropped = store.begin().await.unwrap();
    dropped.lock_order(order.id).await.unwrap();
    assert_eq!(dropped.reserve_sequences(order.id, 5).await.unwrap(), 3);
    drop(dropped);

    assert_eq!(record_events(store.as_ref(), &order, 1, 3).await, [3]);
}

pub async fn a_second_dispute_for_an_order_conflicts_and_the_order_shows_its_dispute<
    S: OrderStore,
>(
    store: Arc<S>,
) {
    let (before, dispute) = store_disputed(store.as_ref()).await;
    let read = store.order(before.id).await.unwrap().unwrap();
    assert_eq!(read.dispute, Some(dispute.summary()));
    assert_eq!(
        store.dispute(dispute.id).await.unwrap(),
        Some(dispute.clone())
    );

    let mut other = dispute.clone().into_data();
    other.id = DisputeId::from_uuid(Uuid::from_u128(31));
    let other = Dispute::rehydrate(other);
    let mut uow = store.begin().await.unwrap();
    let outcome = async {
        uow.lock_order(before.id).await?;
        uow.insert_dispute(&other).await?;
        uow.commit().await
    }
    .await;
    assert!(is_conflict(&outcome), "{outcome:?}");
    assert_eq!(store.dispute(other.id).await.unwrap(), None);
}
