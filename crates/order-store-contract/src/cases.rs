//! The cases of the contract, one behaviour each. Every case starts from an empty store.
//!
//! An adapter may hold writes back and report their refusal (`Conflict`, `Stale`) from a
//! later call, at the latest `commit`, as the port allows: the cases accept either.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use order_domain::fixtures::*;
use order_domain::order::{
    CancellationReason, Carrier, CarrierDetail, CarrierEventId, Deadlines, IntentRequest,
    ParcelKey, Sweep, TrackingNumber, TrackingStatus, TrackingUpdate,
};
use order_domain::personal::{Erasure, ErasureDue};
use order_domain::{
    Actor, Dispute, DisputeId, EventId, EventType, ListingId, Order, OrderId, OrderStatus, UserId,
};
use order_ports::store::{
    EscrowLine, EscrowScope, OrderQuery, OrderSelection, Page, PageRequest, Position, SortOrder,
    UserErasure, Visibility,
};
use order_ports::{
    IntentLease, OrderStore, OutboxMessage, RecordedEvent, StoreError, StoryLine, SweepClaim,
};
use uuid::Uuid;

/// `order` as the `n`th of its kind: its own id, listing and creation time (`n` minutes
/// after the fixture's), so that several can be stored side by side.
fn nth(order: Order, n: u128) -> Order {
    let mut data = order.into_data();
    data.id = OrderId::from_uuid(Uuid::from_u128(n));
    data.listing_id = ListingId::from_uuid(Uuid::from_u128(10_000 + n));
    data.created_at += TimeDelta::minutes(n as i64);
    Order::rehydrate(data)
}

/// `order` bought by `buyer` from `seller`.
fn between(order: Order, buyer: u128, seller: u128) -> Order {
    let mut data = order.into_data();
    data.buyer_id = UserId::from_uuid(Uuid::from_u128(buyer));
    data.seller_id = UserId::from_uuid(Uuid::from_u128(seller));
    Order::rehydrate(data)
}

fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

async fn insert(store: &dyn OrderStore, orders: &[Order]) {
    let mut uow = store.begin().await.unwrap();
    for order in orders {
        uow.insert_order(order).await.unwrap();
    }
    uow.commit().await.unwrap();
}

/// Stores `changed` over `before` (locked first), as a use case does.
async fn update(store: &dyn OrderStore, before: &Order, changed: &Order) {
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(before.id).await.unwrap();
    uow.update_order(changed, before.status).await.unwrap();
    uow.commit().await.unwrap();
}

/// An event of `order`, numbered `sequence`.
fn event(order: &Order, sequence: u64, n: u128) -> RecordedEvent {
    RecordedEvent {
        message: OutboxMessage {
            event_id: EventId::from_uuid(Uuid::from_u128(0xE000 + n)),
            event_type: EventType::OrderShipped,
            order_id: order.id,
            occurred_at: t0() + TimeDelta::seconds(n as i64),
            payload: format!("{{\"n\":{n}}}"),
            trace: None,
        },
        story: StoryLine {
            sequence,
            actor: Actor::System,
            from_status: order.status,
            to_status: order.status,
            details: serde_json::json!({"n": n as u64}),
        },
    }
}

/// Records `count` events of `order` in one unit of work; their sequence numbers.
async fn record_events(
    store: &dyn OrderStore,
    order: &Order,
    count: u64,
    first_n: u128,
) -> Vec<u64> {
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(order.id).await.unwrap();
    let first = uow.reserve_sequences(order.id, count).await.unwrap();
    let sequences: Vec<u64> = (first..first + count).collect();
    let events = sequences
        .iter()
        .zip(first_n..)
        .map(|(sequence, n)| event(order, *sequence, n))
        .collect();
    uow.append_outbox(events).await.unwrap();
    uow.commit().await.unwrap();
    sequences
}

/// A shipped order stored, then disputed by its buyer as a use case does it: the order as
/// it was before, and its dispute.
async fn store_disputed(store: &dyn OrderStore) -> (Order, Dispute) {
    let before = shipped();
    insert(store, std::slice::from_ref(&before)).await;
    let (disputed, dispute) = disputed_from(before.clone());
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(before.id).await.unwrap();
    uow.update_order(&disputed, before.status).await.unwrap();
    uow.insert_dispute(&dispute).await.unwrap();
    uow.commit().await.unwrap();
    (before, dispute)
}

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

/// A query of every order `visibility` admits, one `page` of them in `sort`'s order.
pub fn query(visibility: Visibility, page: PageRequest, sort: SortOrder) -> OrderQuery {
    OrderQuery {
        visibility,
        selection: OrderSelection::every(sort, page),
    }
}

const EVERYTHING: PageRequest = PageRequest::Offset {
    offset: 0,
    limit: 100,
};

/// Asserts that `query`, newest first on one page, lists exactly those of `stored` (oldest
/// first) that its visibility admits and its selection matches, and counts them.
async fn assert_lists_what_it_asks(store: &dyn OrderStore, stored: &[Order], query: OrderQuery) {
    let expected: Vec<OrderId> = stored
        .iter()
        .rev()
        .filter(|order| query.visibility.admits(order) && query.selection.matches(order))
        .map(|order| order.id)
        .collect();
    let listed = store.list_orders(query.clone()).await.unwrap();
    let ids: Vec<OrderId> = listed.items.iter().map(|order| order.id).collect();
    assert_eq!(ids, expected, "{query:?}");
    assert_eq!(
        listed.total.map(|total| total.count()),
        Some(expected.len() as u64),
        "{query:?}"
    );
}

pub async fn each_visibility_lists_exactly_the_orders_it_admits<S: OrderStore>(store: Arc<S>) {
    let orders: Vec<_> = (1..=9u128)
        .map(|n| between(nth(placed(), n), n % 3, 3 + n % 2))
        .collect();
    insert(store.as_ref(), &orders).await;
    let mut visibilities = vec![Visibility::All];
    for n in 0..=5 {
        visibilities.extend([
            Visibility::Participant(user(n)),
            Visibility::Buyer(user(n)),
            Visibility::Seller(user(n)),
        ]);
    }
    for visibility in visibilities {
        let every = query(visibility, EVERYTHING, SortOrder::NewestFirst);
        assert_lists_what_it_asks(store.as_ref(), &orders, every).await;
    }
}

pub async fn each_selection_lists_exactly_the_orders_it_matches<S: OrderStore>(store: Arc<S>) {
    // Nine orders a minute apart, in turn placed, paid and shipped, each of its own listing.
    let orders: Vec<_> = (1..=9u128)
        .map(|n| match n % 3 {
            0 => nth(placed(), n),
            1 => nth(paid(), n),
            _ => nth(shipped(), n),
        })
        .collect();
    insert(store.as_ref(), &orders).await;
    let minute = |n: i64| placed().created_at + TimeDelta::minutes(n);
    let every = || OrderSelection::every(SortOrder::NewestFirst, EVERYTHING);
    let selections = [
        OrderSelection {
            statuses: vec![OrderStatus::Paid],
            ..every()
        },
        OrderSelection {
            statuses: vec![OrderStatus::Paid, OrderStatus::Shipped],
            ..every()
        },
        OrderSelection {
            listing_id: Some(orders[4].listing_id),
            ..every()
        },
        OrderSelection {
            created_after: Some(minute(3)),
            created_before: Some(minute(7)),
            ..every()
        },
        OrderSelection {
            statuses: vec![OrderStatus::Shipped],
            created_after: Some(minute(5)),
            ..every()
        },
        OrderSelection {
            statuses: vec![OrderStatus::Completed],
            ..every()
        },
    ];
    for selection in selections {
        let query = OrderQuery {
            visibility: Visibility::All,
            selection,
        };
        assert_lists_what_it_asks(store.as_ref(), &orders, query).await;
    }
}

pub async fn keyset_pages_walk_the_whole_list_forward_and_back<S: OrderStore>(store: Arc<S>) {
    let orders: Vec<_> = (1..=7u128).map(|n| nth(placed(), n)).collect();
    insert(store.as_ref(), &orders).await;
    for sort in [SortOrder::NewestFirst, SortOrder::OldestFirst] {
        let mut expected: Vec<OrderId> = orders.iter().map(|order| order.id).collect();
        if sort == SortOrder::NewestFirst {
            expected.reverse();
        }
        let position = |order: &Order| Position {
            created_at: order.created_at,
            id: *order.id.as_uuid(),
        };
        let mut walked = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .list_orders(query(
                    Visibility::All,
                    PageRequest::After { after, limit: 3 },
                    sort,
                ))
                .await
                .unwrap();
            assert_eq!(page.total, None, "keyset pages carry no count");
            walked.extend(page.items.iter().map(|order| order.id));
            after = page.items.last().map(position);
            if !page.has_more {
                break;
            }
        }
        assert_eq!(walked, expected, "{sort:?} forward");

        let last = orders
            .iter()
            .find(|order| Some(&order.id) == expected.last())
            .unwrap();
        let back = store
            .list_orders(query(
                Visibility::All,
                PageRequest::Before {
                    before: position(last),
                    limit: 3,
                },
                sort,
            ))
            .await
            .unwrap();
        let ids: Vec<OrderId> = back.items.iter().map(|order| order.id).collect();
        assert_eq!(
            ids,
            expected[expected.len() - 4..expected.len() - 1],
            "{sort:?} back"
        );
        assert!(back.has_more, "{sort:?}: more before");
    }
}

/// `order` (SHIPPED or DELIVERED) as sent with `carrier` under `tracking`.
fn sent_as(order: Order, carrier: &str, tracking: &str) -> Order {
    let mut data = order.into_data();
    data.carrier = Some(Carrier::parse(carrier).unwrap());
    data.tracking_number = Some(TrackingNumber::parse(tracking).unwrap());
    Order::rehydrate(data)
}

fn parcel(carrier: &str, tracking: &str) -> ParcelKey {
    ParcelKey::new(
        &Carrier::parse(carrier).unwrap(),
        &TrackingNumber::parse(tracking).unwrap(),
    )
}

pub async fn a_parcel_finds_exactly_the_orders_the_domain_says_it_follows<S: OrderStore>(
    store: Arc<S>,
) {
    let orders = [
        nth(sent_as(shipped(), "UPS", "1Z-AB"), 1),
        nth(sent_as(delivered(), "ups", "1z-ab"), 2),
        nth(sent_as(order_in(OrderStatus::Completed), "UPS", "1Z-AB"), 3),
        nth(sent_as(shipped(), "UPS", "1Z-AC"), 4),
        nth(sent_as(shipped(), "DHL", "1Z-AB"), 5),
        nth(sent_as(shipped(), "LA POSTÉ", "1Z-AB"), 6),
    ];
    insert(store.as_ref(), &orders).await;
    for key in [
        parcel(" Ups ", "1z-Ab "),
        parcel("dhl", "1Z-AB"),
        parcel("la postÉ", "1z-ab"),
        parcel("la posté", "1z-ab"),
        parcel("UPS", "nothing"),
    ] {
        let expected: Vec<OrderId> = orders
            .iter()
            .filter(|order| order.followed_parcel().as_ref() == Some(&key))
            .map(|order| order.id)
            .collect();
        let mut uow = store.begin().await.unwrap();
        let found: Vec<OrderId> = uow
            .lock_orders_by_parcel(&key)
            .await
            .unwrap()
            .iter()
            .map(|order| order.id)
            .collect();
        assert_eq!(found, expected, "{key:?}");
    }
    let mut uow = store.begin().await.unwrap();
    let two = uow
        .lock_orders_by_parcel(&parcel("UPS", "1Z-AB"))
        .await
        .unwrap();
    assert_eq!(
        two.len(),
        2,
        "a parcel shared by two orders finds both, in id order"
    );
}

pub async fn a_carrier_event_is_recorded_once_and_only_when_committed<S: OrderStore>(
    store: Arc<S>,
) {
    let id = CarrierEventId::parse("evt-1").unwrap();
    let order = shipped().id;
    let mut dropped = store.begin().await.unwrap();
    assert!(dropped
        .record_carrier_event(&id, vec![order], later(10))
        .await
        .unwrap());
    drop(dropped);
    let mut uow = store.begin().await.unwrap();
    assert_eq!(uow.carrier_event(&id).await.unwrap(), None, "rolled back");
    assert!(uow
        .record_carrier_event(&id, vec![order], later(10))
        .await
        .unwrap());
    uow.commit().await.unwrap();
    let mut again = store.begin().await.unwrap();
    assert!(!again
        .record_carrier_event(&id, vec![order], later(11))
        .await
        .unwrap());
    assert_eq!(again.carrier_event(&id).await.unwrap(), Some(vec![order]));
}

pub async fn a_carrier_event_recorded_concurrently_waits_and_is_refused<S: OrderStore + 'static>(
    store: Arc<S>,
) {
    let id = CarrierEventId::parse("evt-race").unwrap();
    let order = shipped().id;
    let mut first = store.begin().await.unwrap();
    assert!(first
        .record_carrier_event(&id, vec![order], later(10))
        .await
        .unwrap());
    let racing = store.clone();
    let racing_id = id.clone();
    let second = tokio::spawn(async move {
        let mut uow = racing.begin().await.unwrap();
        uow.record_carrier_event(&racing_id, vec![order], later(10))
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!second.is_finished(), "the second waits for the first");
    first.commit().await.unwrap();
    assert!(!second.await.unwrap(), "and finds it recorded");
}

pub async fn carrier_events_are_forgotten_after_their_time<S: OrderStore>(store: Arc<S>) {
    let (old, new) = (
        CarrierEventId::parse("old").unwrap(),
        CarrierEventId::parse("new").unwrap(),
    );
    let mut uow = store.begin().await.unwrap();
    uow.record_carrier_event(&old, vec![], later(1))
        .await
        .unwrap();
    uow.record_carrier_event(&new, vec![], later(5))
        .await
        .unwrap();
    uow.commit().await.unwrap();
    assert_eq!(store.forget_carrier_events(later(3)).await.unwrap(), 1);
    let mut uow = store.begin().await.unwrap();
    assert_eq!(uow.carrier_event(&old).await.unwrap(), None);
    assert_eq!(uow.carrier_event(&new).await.unwrap(), Some(vec![]));
}

pub async fn a_delivery_problem_reads_back<S: OrderStore>(store: Arc<S>) {
    let shipped = shipped();
    insert(store.as_ref(), std::slice::from_ref(&shipped)).await;
    let returned_to_sender = TrackingUpdate {
        event_id: CarrierEventId::parse("evt-p").unwrap(),
        carrier: shipped.carrier.clone().unwrap(),
        tracking_number: shipped.tracking_number.clone().unwrap(),
        status: TrackingStatus::ReturnedToSender,
        occurred_at: later(10),
        detail: CarrierDetail::parse("Refused by the addressee").unwrap(),
    };
    let returned = shipped
        .apply_tracking_update(&returned_to_sender, &Deadlines::default(), later(10))
        .unwrap()
        .unwrap()
        .value;
    update(store.as_ref(), &shipped, &returned).await;
    assert_eq!(store.order(shipped.id).await.unwrap(), Some(returned));
}

/// Every line of `scope`, read `limit` at a time.
async fn all_escrow_lines<S: OrderStore>(
    store: &S,
    scope: EscrowScope,
    limit: usize,
) -> Vec<EscrowLine> {
    let mut lines = Vec::new();
    let mut after = None;
    loop {
        let page = store.escrow_lines(scope, after, limit).await.unwrap();
        assert!(page.lines.len() <= limit);
        lines.extend(page.lines);
        match page.next {
            Some(next) => after = Some(next),
            None => return lines,
        }
    }
}

fn ids_of(lines: &[EscrowLine]) -> Vec<OrderId> {
    lines.iter().map(|line| line.order.id).collect()
}

pub async fn escrow_lines_page_through_every_order_with_an_escrow_once<S: OrderStore>(
    store: Arc<S>,
) {
    let unpaid = nth(placed(), 1);
    let escrowed: Vec<Order> = (2..=6).map(|n| nth(paid(), n)).collect();
    insert(store.as_ref(), std::slice::from_ref(&unpaid)).await;
    insert(store.as_ref(), &escrowed).await;
    let expected: Vec<OrderId> = escrowed.iter().map(|order| order.id).collect();
    for limit in [1, 2, 5, 100] {
        let lines = all_escrow_lines(store.as_ref(), EscrowScope::All, limit).await;
        assert_eq!(ids_of(&lines), expected, "{limit} a page");
        assert!(lines.iter().all(|line| line.settlement.is_none()));
    }
    let one = store
        .escrow_lines(EscrowScope::Order(escrowed[1].id), None, 10)
        .await
        .unwrap();
    assert_eq!(ids_of(&one.lines), [escrowed[1].id]);
    assert_eq!(one.next, None);
    let none = store
        .escrow_lines(EscrowScope::Order(unpaid.id), None, 10)
        .await
        .unwrap();
    assert!(none.lines.is_empty());
}

pub async fn a_paid_out_order_reads_with_the_settlement_its_latest_event_recorded<S: OrderStore>(
    store: Arc<S>,
) {
    let completed = order_in(OrderStatus::Completed);
    insert(store.as_ref(), std::slice::from_ref(&completed)).await;
    let split = order_domain::Settlement::from_parts(money("40.00"), money("92.00"), money("3.00"));
    let mut uow = store.begin().await.unwrap();
    uow.lock_order(completed.id).await.unwrap();
    let first = uow.reserve_sequences(completed.id, 3).await.unwrap();
    let mut settled_early = event(&completed, first, 1);
    settled_early.story.details = serde_json::json!({"settlement": completed.release_settlement()});
    let mut settled = event(&completed, first + 1, 2);
    settled.story.details = serde_json::json!({"reason": "agreed", "settlement": split});
    let after = event(&completed, first + 2, 3);
    uow.append_outbox(vec![settled_early, settled, after])
        .await
        .unwrap();
    uow.commit().await.unwrap();
    let page = store
        .escrow_lines(EscrowScope::All, None, 10)
        .await
        .unwrap();
    assert_eq!(page.lines.len(), 1);
    assert_eq!(page.lines[0].order, completed);
    assert_eq!(page.lines[0].settlement, Some(split));
}

pub async fn changed_since_reads_each_changed_order_once<S: OrderStore>(store: Arc<S>) {
    let [a, b, quiet] = [7, 8, 9].map(|n| nth(paid(), n));
    let unpaid = nth(placed(), 10);
    insert(
        store.as_ref(),
        &[a.clone(), b.clone(), quiet.clone(), unpaid.clone()],
    )
    .await;
    // Events occur `n` seconds after t0: a at 1 and 4, b at 2, unpaid at 3.
    record_events(store.as_ref(), &a, 1, 1).await;
    record_events(store.as_ref(), &b, 1, 2).await;
    record_events(store.as_ref(), &unpaid, 1, 3).await;
    record_events(store.as_ref(), &a, 1, 4).await;
    let since = t0() + TimeDelta::seconds(2);
    for limit in [1, 2, 10] {
        let lines = all_escrow_lines(store.as_ref(), EscrowScope::ChangedSince(since), limit).await;
        let mut ids = ids_of(&lines);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), lines.len(), "each order once ({limit} a page)");
        assert!(ids.contains(&a.id) && ids.contains(&b.id), "{limit} a page");
        assert!(!ids.contains(&quiet.id), "an order that never changed");
        assert!(!ids.contains(&unpaid.id), "an order without an escrow");
    }
}

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
