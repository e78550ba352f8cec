//! The sweeps' claims: rows another unit of work holds are skipped, each claim takes
//! exactly what its deadline makes due, backlogs are measured, stale intents leased once.

use super::*;

pub async fn a_claim_skips_rows_another_unit_of_work_holds<S: OrderStore>(store: Arc<S>) {
    let (a, b) = (nth(shipped(), 1), nth(shipped(), 2));
    insert(store.as_ref(), &[a.clone(), b.clone()]).await;
    let due = a.auto_complete_at.unwrap() + TimeDelta::minutes(1);

    let mut holding = store.begin().await.unwrap();
    holding.lock_order(a.id).await.unwrap();
    let mut worker = store.begin().await.unwrap();
    let claimed = worker
        .claim_due_orders(Sweep::DueCompletion, SweepClaim::new(due, 1, vec![]))
        .await
        .unwrap()
        .pop();
    assert_eq!(claimed.map(|order| order.id), Some(b.id));
    let mut another = store.begin().await.unwrap();
    assert_eq!(
        another
            .claim_due_orders(Sweep::DueCompletion, SweepClaim::new(due, 1, vec![]))
            .await
            .unwrap()
            .pop(),
        None,
        "both held"
    );
    drop((worker, another));

    let mut worker = store.begin().await.unwrap();
    assert_eq!(
        worker
            .claim_due_orders(Sweep::DueCompletion, SweepClaim::new(due, 1, vec![b.id]))
            .await
            .unwrap()
            .pop(),
        None,
        "b skipped, a still held"
    );
    // Dropped, a unit of work lets its rows go: soon, if not at once (its rollback may take
    // a round trip of its own).
    drop(holding);
    let mut claimed = None;
    for _ in 0..250 {
        claimed = worker
            .claim_due_orders(Sweep::DueCompletion, SweepClaim::new(due, 1, vec![b.id]))
            .await
            .unwrap()
            .pop();
        if claimed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(claimed.map(|order| order.id), Some(a.id));
}

pub async fn overdue_claims_take_exactly_the_orders_past_their_deadline<S: OrderStore>(
    store: Arc<S>,
) {
    let unpaid = nth(placed(), 1);
    let buy_now = nth(buy_now_placed(), 2);
    let unshipped = nth(paid(), 3);
    let on_time = nth(shipped(), 4);
    insert(
        store.as_ref(),
        &[
            unpaid.clone(),
            buy_now.clone(),
            unshipped.clone(),
            on_time.clone(),
        ],
    )
    .await;
    let claim = |sweep: Sweep, now: DateTime<Utc>, skip: Vec<OrderId>| {
        let store = store.clone();
        async move {
            let mut uow = store.begin().await.unwrap();
            let claimed = uow
                .claim_due_orders(sweep, SweepClaim::new(now, 10, skip))
                .await
                .unwrap();
            // Ended at once: a dropped unit of work lets go of its rows only once its
            // rollback has run in the background, and the next claim would skip them.
            uow.commit().await.unwrap();
            claimed
                .into_iter()
                .map(|order| order.id)
                .collect::<Vec<_>>()
        }
    };
    let pay_by = unpaid.pay_by.unwrap();
    let ship_by = unshipped.ship_by.unwrap();
    assert_eq!(
        claim(Sweep::UnpaidAuction, pay_by - TimeDelta::seconds(1), vec![]).await,
        []
    );
    assert_eq!(
        claim(Sweep::UnpaidAuction, pay_by, vec![]).await,
        [unpaid.id]
    );
    assert_eq!(
        claim(Sweep::UnpaidAuction, pay_by, vec![unpaid.id]).await,
        []
    );
    assert_eq!(
        claim(Sweep::LateShipment, ship_by - TimeDelta::seconds(1), vec![]).await,
        []
    );
    assert_eq!(
        claim(Sweep::LateShipment, ship_by, vec![]).await,
        [unshipped.id]
    );

    // At any time, a claim takes exactly the orders the domain's rule calls due.
    let orders = [unpaid, buy_now, unshipped, on_time];
    for now in [0, 24, 24 * 4, 24 * 5, 24 * 30].map(later) {
        for sweep in Sweep::ALL {
            let mut claimed = claim(sweep, now, vec![]).await;
            claimed.sort();
            let mut due: Vec<OrderId> = orders
                .iter()
                .filter(|order| order.is_due(sweep, now))
                .map(|order| order.id)
                .collect();
            due.sort();
            assert_eq!(claimed, due, "{sweep:?} at {now}");
        }
    }
}

pub async fn a_sweeps_backlog_is_the_deadline_of_its_longest_overdue_order<S: OrderStore>(
    store: Arc<S>,
) {
    let orders = [
        nth(placed(), 1),
        nth(placed(), 2),
        nth(buy_now_placed(), 3),
        nth(paid(), 4),
        nth(shipped(), 5),
        nth(delivered(), 6),
    ];
    insert(store.as_ref(), &orders).await;
    for now in [0, 24, 24 * 4, 24 * 5, 24 * 30].map(later) {
        for sweep in Sweep::ALL {
            let oldest = orders
                .iter()
                .filter(|order| order.is_due(sweep, now))
                .filter_map(|order| sweep.deadline(order))
                .min();
            assert_eq!(
                store.oldest_due(sweep, now).await.unwrap(),
                oldest,
                "{sweep:?} at {now}"
            );
        }
    }
}

pub async fn the_escalation_backlog_is_the_longest_unanswered_disputes_deadline<S: OrderStore>(
    store: Arc<S>,
) {
    let (_, dispute) = store_disputed(store.as_ref()).await;
    let respond_by = dispute.respond_by.unwrap();
    for now in [
        respond_by - TimeDelta::seconds(1),
        respond_by,
        later(24 * 30),
    ] {
        let unanswered = dispute.is_unanswered(now).then_some(respond_by);
        assert_eq!(
            store.oldest_unanswered_dispute(now).await.unwrap(),
            unanswered,
            "at {now}"
        );
        let mut uow = store.begin().await.unwrap();
        let claimed = uow
            .claim_unanswered_disputes(SweepClaim::new(now, 10, vec![]))
            .await
            .unwrap();
        uow.commit().await.unwrap();
        assert_eq!(
            claimed.first().map(|(_, claimed)| claimed.id),
            unanswered.map(|_| dispute.id),
            "the escalation claims what the backlog counts, at {now}"
        );
    }
}

pub async fn stale_intents_are_leased_once<S: OrderStore>(store: Arc<S>) {
    let order = shipped();
    insert(store.as_ref(), std::slice::from_ref(&order)).await;
    let requested = later(5);
    let IntentRequest::Recorded(movement) = order
        .request_completion(acting_buyer(), requested, TimeDelta::minutes(2))
        .unwrap()
    else {
        panic!("a new intent");
    };
    update(store.as_ref(), &order, &movement.order).await;
    let resume_at = movement.intent.resume_at;

    let early = store
        .claim_stale_intents(IntentLease {
            now: resume_at - TimeDelta::seconds(1),
            until: later(6),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(early, vec![], "its requester still has it");
    let lease_until = resume_at + TimeDelta::minutes(1);
    let lease = IntentLease {
        now: resume_at,
        until: lease_until,
        limit: 10,
    };
    let claimed = store.claim_stale_intents(lease).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let leased = claimed[0].escrow_intent.clone().unwrap();
    assert_eq!(leased.resume_at, lease_until);
    assert!(leased.is_same(&movement.intent));
    let again = store.claim_stale_intents(lease).await.unwrap();
    assert_eq!(again, vec![], "leased to the first worker");
    let stats = store.intent_stats().await.unwrap();
    assert_eq!((stats.pending, stats.oldest), (1, Some(requested)));
}
