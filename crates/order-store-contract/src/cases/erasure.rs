//! Personal data: an erased order reads back erased, and the erasure claims take exactly
//! what the domain calls due, in an order that cannot deadlock.

use super::*;

pub async fn an_erased_order_and_its_dispute_read_back<S: OrderStore>(store: Arc<S>) {
    let (open, opened) = disputed_from(shipped());
    let (order, dispute) = resolve(&open, &opened, order_domain::Resolution::RefundBuyer, None);
    insert(store.as_ref(), std::slice::from_ref(&open)).await;
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(open.id).await.unwrap();
    uow.insert_dispute(&dispute).await.unwrap();
    uow.update_order(&order, open.status).await.unwrap();
    uow.commit().await.unwrap();
    let order_domain::personal::Erasure::Erased(erased) = order.erase_personal_data(later(100))
    else {
        panic!("a refunded order is erased");
    };
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(order.id).await.unwrap();
    uow.update_order(&erased.value, order.status).await.unwrap();
    uow.update_dispute(&dispute.erase_personal_data())
        .await
        .unwrap();
    uow.commit().await.unwrap();
    let read = store.order(order.id).await.unwrap().unwrap();
    assert_eq!(read.personal_data_erased_at, Some(later(100)));
    assert!(read.shipping_address.is_empty());
    assert_eq!(
        store.dispute(dispute.id).await.unwrap(),
        Some(dispute.erase_personal_data())
    );
}

/// `order` as stored by a release that did not record when orders ended.
fn without_ended_at(order: Order) -> Order {
    let mut data = order.into_data();
    data.ended_at = None;
    Order::rehydrate(data)
}

/// The `n`th completed order, its personal data erased.
fn erased_nth(n: u128) -> Order {
    match nth(order_in(OrderStatus::Completed), n).erase_personal_data(later(6)) {
        Erasure::Erased(erased) => erased.value,
        other => panic!("a completed order is erased, not {other:?}"),
    }
}

/// The ids a claim under `due` takes, in the order it takes them; the claim is let go of
/// before this returns, so that the next claim sees the same rows.
async fn claim_erasable<S: OrderStore>(store: &S, due: ErasureDue) -> Vec<OrderId> {
    let mut uow = store.begin().await.unwrap();
    let claimed = uow.claim_erasable_orders(due, 10).await.unwrap();
    uow.commit().await.unwrap();
    claimed.into_iter().map(|order| order.id).collect()
}

pub async fn erasure_claims_take_exactly_the_orders_the_domain_calls_due<S: OrderStore>(
    store: Arc<S>,
) {
    let cancelled = between(nth(order_in(OrderStatus::Cancelled), 1), 1, 2);
    let completed = between(nth(order_in(OrderStatus::Completed), 2), 3, 1);
    let refunded = between(nth(order_in(OrderStatus::Refunded), 3), 3, 4);
    let open = between(nth(order_in(OrderStatus::Delivered), 4), 1, 4);
    let erased = between(erased_nth(5), 1, 4);
    let requested = between(nth(order_in(OrderStatus::Completed), 6), 5, 6);
    let all = [
        cancelled,
        completed,
        refunded,
        open,
        erased,
        requested.clone(),
    ];
    insert(store.as_ref(), &all).await;
    let mut uow = store.begin().await.unwrap();
    assert_eq!(uow.request_erasure(user(5), later(7)).await.unwrap(), 1);
    uow.commit().await.unwrap();

    let dues = [
        ErasureDue::RetentionPassed {
            ended_before: later(0),
        },
        ErasureDue::RetentionPassed {
            ended_before: later(2),
        },
        ErasureDue::RetentionPassed {
            ended_before: later(10),
        },
        ErasureDue::Requested,
        ErasureDue::PartyIs(user(1)),
        ErasureDue::PartyIs(user(4)),
    ];
    for due in dues {
        let mut expected = Vec::new();
        for order in &all {
            let stored = store.order(order.id).await.unwrap().unwrap();
            if stored.is_erasable(due) {
                expected.push(order.id);
            }
        }
        let mut claimed = claim_erasable(store.as_ref(), due).await;
        claimed.sort();
        expected.sort();
        assert_eq!(claimed, expected, "{due:?}");
    }
    // Past the retention, the longest ended goes first.
    let claimed = claim_erasable(store.as_ref(), dues[2]).await;
    assert_eq!(claimed.first(), Some(&all[0].id));
    assert_eq!(claimed.last(), Some(&all[2].id));
}

pub async fn an_erasure_sweep_skips_orders_another_unit_of_work_holds<S: OrderStore>(
    store: Arc<S>,
) {
    let a = nth(order_in(OrderStatus::Completed), 1);
    let b = nth(order_in(OrderStatus::Completed), 2);
    insert(store.as_ref(), &[a.clone(), b.clone()]).await;
    let due = ErasureDue::RetentionPassed {
        ended_before: later(100),
    };
    let mut first = store.begin().await.unwrap();
    let taken = first.claim_erasable_orders(due, 1).await.unwrap();
    assert_eq!(taken.len(), 1);
    let other = claim_erasable(store.as_ref(), due).await;
    assert_eq!(other.len(), 1);
    assert_ne!(other[0], taken[0].id);
}

pub async fn a_users_own_erasure_waits_for_an_order_another_holds_and_takes_it_only_if_still_due<
    S: OrderStore + 'static,
>(
    store: Arc<S>,
) {
    let a = nth(order_in(OrderStatus::Completed), 1);
    let b = nth(order_in(OrderStatus::Completed), 2);
    insert(store.as_ref(), &[a.clone(), b.clone()]).await;
    // A worker's sweep holds both, erases `a` and lets `b` go unchanged.
    let mut worker = store.begin().await.unwrap();
    let swept = ErasureDue::RetentionPassed {
        ended_before: later(100),
    };
    assert_eq!(
        worker.claim_erasable_orders(swept, 10).await.unwrap().len(),
        2
    );
    let Erasure::Erased(erased) = a.erase_personal_data(later(50)) else {
        panic!("a completed order is erased");
    };
    worker.update_order(&erased.value, a.status).await.unwrap();
    let racing = store.clone();
    let request = tokio::spawn(async move {
        let mut uow = racing.begin().await.unwrap();
        let claimed = uow
            .claim_erasable_orders(ErasureDue::PartyIs(buyer()), 10)
            .await
            .unwrap();
        claimed
            .into_iter()
            .map(|order| order.id)
            .collect::<Vec<_>>()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!request.is_finished(), "the request waits for the worker");
    worker.commit().await.unwrap();
    assert_eq!(
        request.await.unwrap(),
        [b.id],
        "and takes only the order the worker did not erase"
    );
}

pub async fn a_users_own_erasure_takes_orders_that_ended_together_in_id_order<S: OrderStore>(
    store: Arc<S>,
) {
    // Ended at the same instant, as one sweep's batch ends them; stored out of id order.
    let orders = [3, 1, 2].map(|n| nth(order_in(OrderStatus::Completed), n));
    assert!(orders
        .iter()
        .all(|order| order.ended_at == orders[0].ended_at));
    insert(store.as_ref(), &orders).await;
    // The order the claim returns is the order it locks in: the buyer's request and the
    // seller's, both waiting for rows, must take them alike or could wait on each other.
    for party in [buyer(), seller()] {
        let claimed = claim_erasable(store.as_ref(), ErasureDue::PartyIs(party)).await;
        let by_id = [1, 2, 3].map(|n| OrderId::from_uuid(Uuid::from_u128(n)));
        assert_eq!(claimed, by_id, "{party:?}");
    }
}

pub async fn a_request_marks_each_kept_order_of_the_user_once<S: OrderStore>(store: Arc<S>) {
    let open = between(nth(order_in(OrderStatus::Paid), 1), 1, 2);
    let ended = between(nth(order_in(OrderStatus::Completed), 2), 3, 1);
    let someone_elses = between(nth(order_in(OrderStatus::Completed), 3), 3, 4);
    let erased = between(erased_nth(4), 1, 4);
    insert(
        store.as_ref(),
        &[
            open.clone(),
            ended.clone(),
            someone_elses.clone(),
            erased.clone(),
        ],
    )
    .await;
    let request = |at: DateTime<Utc>| {
        let store = store.clone();
        async move {
            let mut uow = store.begin().await.unwrap();
            let marked = uow.request_erasure(user(1), at).await.unwrap();
            uow.commit().await.unwrap();
            marked
        }
    };
    assert_eq!(request(later(7)).await, 2);
    assert_eq!(request(later(8)).await, 0, "asking again marks nothing");
    let requested_at = |id: OrderId| {
        let store = store.clone();
        async move { store.order(id).await.unwrap().unwrap().erasure_requested_at }
    };
    assert_eq!(requested_at(open.id).await, Some(later(7)));
    assert_eq!(requested_at(ended.id).await, Some(later(7)));
    assert_eq!(requested_at(someone_elses.id).await, None);
    assert_eq!(requested_at(erased.id).await, None);
    assert_eq!(
        store.erasure_of(user(1)).await.unwrap(),
        UserErasure {
            erased: 1,
            pending: 2
        }
    );
    assert_eq!(
        store.erasure_of(user(9)).await.unwrap(),
        UserErasure::default()
    );
}

pub async fn ended_at_is_filled_in_for_orders_that_ended_before_it_was_recorded<S: OrderStore>(
    store: Arc<S>,
) {
    let completed = without_ended_at(nth(order_in(OrderStatus::Completed), 1));
    let refunded = without_ended_at(nth(order_in(OrderStatus::Refunded), 2));
    let open = nth(order_in(OrderStatus::Delivered), 3);
    let recorded = nth(order_in(OrderStatus::Cancelled), 4);
    insert(
        store.as_ref(),
        &[
            completed.clone(),
            refunded.clone(),
            open.clone(),
            recorded.clone(),
        ],
    )
    .await;
    record_events(store.as_ref(), &refunded, 2, 40).await;
    assert_eq!(store.backfill_ended_at(1).await.unwrap(), 1);
    assert_eq!(store.backfill_ended_at(10).await.unwrap(), 1);
    assert_eq!(store.backfill_ended_at(10).await.unwrap(), 0);
    let ended_at = |id: OrderId| {
        let store = store.clone();
        async move { store.order(id).await.unwrap().unwrap().ended_at }
    };
    assert_eq!(ended_at(completed.id).await, completed.completed_at);
    // A refund records no time of its own: its latest event says when.
    assert_eq!(
        ended_at(refunded.id).await,
        Some(t0() + TimeDelta::seconds(41))
    );
    assert_eq!(ended_at(open.id).await, None);
    assert_eq!(ended_at(recorded.id).await, recorded.ended_at);
}
