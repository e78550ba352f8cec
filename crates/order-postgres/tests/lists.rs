//! The list queries: whose orders, the filters, both orderings and both pagination styles.

use chrono::TimeDelta;
use order_domain::dispute::{DisputeStatus, DisputeUpdate};
use order_domain::fixtures::*;
use order_domain::order::Deadlines;
use order_domain::order::Terms;
use order_domain::order::{NewOrder, OrderSource, ShippingAddress};
use order_domain::{DisputeId, ListingId, Order, OrderId, OrderStatus, Parties, UserId};
use order_ports::store::{
    DisputeQuery, OrderQuery, OrderSelection, Page, PageRequest, Position, SortOrder, Total,
    Visibility,
};
use order_ports::OrderStore;
use order_postgres::test_db::TestDatabase;
use order_postgres::PgStore;
use uuid::Uuid;

fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

/// Order `n`, placed `n` minutes after t0.
fn order(n: u128, buyer: UserId, seller: UserId) -> Order {
    let new = NewOrder {
        listing_id: ListingId::from_uuid(Uuid::from_u128(10_000 + n)),
        buyer_id: buyer,
        seller_id: seller,
        source: OrderSource::Auction,
        amount: money("10.00"),
        shipping_cost: money("0.00"),
        shipping_address: ShippingAddress::default(),
    };
    let at = t0() + TimeDelta::minutes(n as i64);
    Order::place(
        OrderId::from_uuid(Uuid::from_u128(n)),
        new,
        &Terms::default(),
        at,
    )
    .unwrap()
    .value
}

async fn insert_all(store: &PgStore, orders: &[Order]) {
    let mut uow = store.begin().await.unwrap();
    for order in orders {
        uow.insert_order(order).await.unwrap();
    }
    uow.commit().await.unwrap();
}

/// Every order, newest first, on one page.
fn everything() -> OrderSelection {
    let one_page = PageRequest::Offset {
        offset: 0,
        limit: 100,
    };
    OrderSelection::every(SortOrder::NewestFirst, one_page)
}

/// What `selection` asks of the orders `visibility` admits.
fn selected(visibility: Visibility, selection: OrderSelection) -> OrderQuery {
    OrderQuery {
        visibility,
        selection,
    }
}

/// What `selection` asks of every order, as an admin sees them.
fn as_admin(selection: OrderSelection) -> OrderQuery {
    selected(Visibility::All, selection)
}

/// Every order `visibility` admits, newest first, on one page.
fn query(visibility: Visibility) -> OrderQuery {
    selected(visibility, everything())
}

/// Every order `visibility` lets through, in one page.
async fn listed(store: &PgStore, visibility: Visibility) -> Page<Order> {
    store.list_orders(query(visibility)).await.unwrap()
}

fn ids(page: &Page<Order>) -> Vec<u128> {
    page.items
        .iter()
        .map(|o| o.id.as_uuid().as_u128())
        .collect()
}

fn position(order: &Order) -> Position {
    Position {
        created_at: order.created_at,
        id: *order.id.as_uuid(),
    }
}

/// Orders 1..=12: user 1 buys the odd ones from user 2, sells the even ones to user 3.
async fn seeded() -> (TestDatabase, PgStore) {
    let db = TestDatabase::new();
    let store = PgStore::new(db.pool());
    let orders: Vec<_> = (1..=12u128)
        .map(|n| {
            if n % 2 == 1 {
                order(n, user(1), user(2))
            } else {
                order(n, user(3), user(1))
            }
        })
        .collect();
    insert_all(&store, &orders).await;
    (db, store)
}

#[tokio::test]
async fn a_user_sees_the_orders_they_buy_or_sell_and_can_narrow_to_one_role() {
    let (_db, store) = seeded().await;
    let all = listed(&store, Visibility::Participant(user(1))).await;
    assert_eq!(all.total, Some(Total::Exact(12)));
    let bought = listed(&store, Visibility::Buyer(user(1))).await;
    assert_eq!(ids(&bought), [11, 9, 7, 5, 3, 1]);
    let sold = listed(&store, Visibility::Seller(user(1))).await;
    assert_eq!(ids(&sold), [12, 10, 8, 6, 4, 2]);
    let seller_two = listed(&store, Visibility::Participant(user(2))).await;
    assert_eq!(seller_two.total, Some(Total::Exact(6)));
    let nobody = listed(&store, Visibility::Participant(user(9))).await;
    assert_eq!(nobody.items, vec![]);
    assert_eq!(
        listed(&store, Visibility::All).await.total,
        Some(Total::Exact(12))
    );
}

/// Orders `ns`, placed by `seeded`, marked PAID.
async fn mark_paid(store: &PgStore, ns: &[u128]) {
    let mut uow = store.begin().await.unwrap();
    for &n in ns {
        let id = OrderId::from_uuid(Uuid::from_u128(n));
        let stored = uow.lock_order(id).await.unwrap().unwrap();
        let changed = stored
            .mark_paid(escrow(), &Deadlines::default(), later(1))
            .unwrap()
            .unwrap()
            .value;
        uow.update_order(&changed, OrderStatus::PendingPayment)
            .await
            .unwrap();
    }
    uow.commit().await.unwrap();
}

#[tokio::test]
async fn lists_filter_by_status_listing_and_creation_time() {
    let (_db, store) = seeded().await;
    mark_paid(&store, &[3, 4]).await;

    let paid = as_admin(OrderSelection {
        statuses: vec![OrderStatus::Paid],
        ..everything()
    });
    assert_eq!(ids(&store.list_orders(paid).await.unwrap()), [4, 3]);
    let either = as_admin(OrderSelection {
        statuses: vec![OrderStatus::Paid, OrderStatus::PendingPayment],
        ..everything()
    });
    assert_eq!(
        store.list_orders(either).await.unwrap().total,
        Some(Total::Exact(12))
    );
    let listing = as_admin(OrderSelection {
        listing_id: Some(ListingId::from_uuid(Uuid::from_u128(10_005))),
        ..everything()
    });
    assert_eq!(ids(&store.list_orders(listing).await.unwrap()), [5]);
    let window = as_admin(OrderSelection {
        created_after: Some(t0() + TimeDelta::minutes(5)),
        created_before: Some(t0() + TimeDelta::minutes(8)),
        ..everything()
    });
    assert_eq!(
        ids(&store.list_orders(window).await.unwrap()),
        [7, 6, 5],
        "after is inclusive, before exclusive"
    );
}

#[tokio::test]
async fn lists_are_newest_first_unless_asked_oldest_first() {
    let (_db, store) = seeded().await;
    let newest = listed(&store, Visibility::All).await;
    assert_eq!(ids(&newest), (1..=12).rev().collect::<Vec<_>>());
    let oldest = as_admin(OrderSelection {
        sort: SortOrder::OldestFirst,
        ..everything()
    });
    assert_eq!(
        ids(&store.list_orders(oldest).await.unwrap()),
        (1..=12).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn offset_pages_count_everything_and_say_whether_more_follow() {
    let (_db, store) = seeded().await;
    let page = |offset| {
        as_admin(OrderSelection {
            page: PageRequest::Offset { offset, limit: 5 },
            ..everything()
        })
    };
    let first = store.list_orders(page(0)).await.unwrap();
    assert_eq!(
        (ids(&first), first.total, first.has_more),
        (vec![12, 11, 10, 9, 8], Some(Total::Exact(12)), true)
    );
    let last = store.list_orders(page(10)).await.unwrap();
    assert_eq!((ids(&last), last.has_more), (vec![2, 1], false));
    let beyond = store.list_orders(page(20)).await.unwrap();
    assert_eq!(
        (beyond.items.len(), beyond.total),
        (0, Some(Total::Exact(12)))
    );
}

#[tokio::test]
async fn keyset_pages_walk_forward_and_back_over_the_whole_list() {
    let (_db, store) = seeded().await;
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = Vec::new();
    loop {
        let page = store
            .list_orders(as_admin(OrderSelection {
                page: PageRequest::After { after, limit: 5 },
                ..everything()
            }))
            .await
            .unwrap();
        assert_eq!(page.total, None);
        seen.extend(ids(&page));
        after = page.items.last().map(position);
        pages.push(page.clone());
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen, (1..=12).rev().collect::<Vec<_>>());
    assert_eq!(pages.len(), 3);

    // Back from the last page: the page before it, in list order.
    let before = position(&pages[2].items[0]);
    let previous = store
        .list_orders(as_admin(OrderSelection {
            page: PageRequest::Before { before, limit: 5 },
            ..everything()
        }))
        .await
        .unwrap();
    assert_eq!(ids(&previous), ids(&pages[1]));
    assert!(previous.has_more);
    let first = position(&pages[1].items[0]);
    let top = store
        .list_orders(as_admin(OrderSelection {
            page: PageRequest::Before {
                before: first,
                limit: 5,
            },
            ..everything()
        }))
        .await
        .unwrap();
    assert_eq!((ids(&top), top.has_more), (ids(&pages[0]), false));
}

#[tokio::test]
async fn keyset_pages_are_stable_under_concurrent_inserts() {
    let (_db, store) = seeded().await;
    let request = |after| {
        as_admin(OrderSelection {
            page: PageRequest::After { after, limit: 5 },
            ..everything()
        })
    };
    let first = store.list_orders(request(None)).await.unwrap();
    // Newer orders arrive between the two page reads (and one in the middle of the list).
    insert_all(
        &store,
        &[order(13, user(1), user(2)), order(14, user(3), user(1))],
    )
    .await;
    let second = store
        .list_orders(request(first.items.last().map(position)))
        .await
        .unwrap();
    assert_eq!(ids(&first), [12, 11, 10, 9, 8]);
    assert_eq!(
        ids(&second),
        [7, 6, 5, 4, 3],
        "no order repeated or skipped"
    );
}

#[tokio::test]
async fn disputes_list_newest_first_filtered_by_status() {
    let db = TestDatabase::new();
    let store = PgStore::new(db.pool());
    let mut uow = store.begin().await.unwrap();
    for n in 1..=3u128 {
        let placed = order(n, user(1), user(2));
        uow.insert_order(&placed).await.unwrap();
        let paid = placed
            .mark_paid(escrow(), &Deadlines::default(), later(n as i64))
            .unwrap()
            .unwrap()
            .value;
        let opened = paid
            .open_dispute(
                DisputeId::from_uuid(Uuid::from_u128(100 + n)),
                paid.participant(user(1)).unwrap(),
                reason(),
                vec![],
                &Deadlines::default(),
                later(n as i64),
            )
            .unwrap();
        let dispute = if n == 2 {
            let update = DisputeUpdate {
                status: Some(DisputeStatus::Review),
                ..Default::default()
            };
            opened
                .dispute
                .update(
                    opened.order.idle().unwrap(),
                    update,
                    &Terms::default(),
                    later(9),
                )
                .unwrap()
                .dispute
        } else {
            opened.dispute
        };
        uow.update_order(&opened.order, OrderStatus::PendingPayment)
            .await
            .unwrap();
        uow.insert_dispute(&dispute).await.unwrap();
    }
    uow.commit().await.unwrap();

    let all = DisputeQuery {
        statuses: vec![],
        page: PageRequest::Offset {
            offset: 0,
            limit: 20,
        },
    };
    let page = store.list_disputes(all).await.unwrap();
    let dispute_ids: Vec<u128> = page
        .items
        .iter()
        .map(|d| d.id.as_uuid().as_u128())
        .collect();
    assert_eq!(
        (dispute_ids, page.total),
        (vec![103, 102, 101], Some(Total::Exact(3)))
    );
    let review = DisputeQuery {
        statuses: vec![DisputeStatus::Review],
        page: PageRequest::After {
            after: None,
            limit: 20,
        },
    };
    let page = store.list_disputes(review).await.unwrap();
    assert_eq!(
        page.items
            .iter()
            .map(|d| d.id.as_uuid().as_u128())
            .collect::<Vec<_>>(),
        [102]
    );
    assert_eq!(page.total, None);
}

#[tokio::test]
async fn listed_orders_carry_their_disputes_summary_and_are_counted_once() {
    let db = TestDatabase::new();
    let store = PgStore::new(db.pool());
    let mut uow = store.begin().await.unwrap();
    for n in 1..=3u128 {
        uow.insert_order(&order(n, user(1), user(2))).await.unwrap();
    }
    let paid = order(2, user(1), user(2))
        .mark_paid(escrow(), &Deadlines::default(), later(1))
        .unwrap()
        .unwrap()
        .value;
    let opened = paid
        .open_dispute(
            DisputeId::from_uuid(Uuid::from_u128(102)),
            paid.participant(user(1)).unwrap(),
            reason(),
            vec![],
            &Deadlines::default(),
            later(2),
        )
        .unwrap();
    uow.update_order(&opened.order, OrderStatus::PendingPayment)
        .await
        .unwrap();
    uow.insert_dispute(&opened.dispute).await.unwrap();
    uow.commit().await.unwrap();

    let page = listed(&store, Visibility::Participant(user(1))).await;

    assert_eq!(
        (ids(&page), page.total),
        (vec![3, 2, 1], Some(Total::Exact(3)))
    );
    let summaries: Vec<Option<(u128, DisputeStatus)>> = page
        .items
        .iter()
        .map(|o| o.dispute.map(|d| (d.id.as_uuid().as_u128(), d.status)))
        .collect();
    assert_eq!(
        summaries,
        [None, Some((102, DisputeStatus::Open)), None],
        "the disputed order shows its dispute, the others none"
    );
}

#[tokio::test]
async fn a_participants_count_adds_what_they_buy_and_sell_under_the_same_filters() {
    let (_db, store) = seeded().await;
    mark_paid(&store, &[3, 4, 6]).await;

    // User 1 buys 3 and sells 4 and 6; user 3 buys 4 and 6 from user 1.
    let paid = |visibility| {
        selected(
            visibility,
            OrderSelection {
                statuses: vec![OrderStatus::Paid],
                ..everything()
            },
        )
    };
    let mine = store
        .list_orders(paid(Visibility::Participant(user(1))))
        .await
        .unwrap();
    assert_eq!(
        (ids(&mine), mine.total),
        (vec![6, 4, 3], Some(Total::Exact(3)))
    );
    let theirs = store
        .list_orders(paid(Visibility::Participant(user(3))))
        .await
        .unwrap();
    assert_eq!(
        (ids(&theirs), theirs.total),
        (vec![6, 4], Some(Total::Exact(2)))
    );
    let window = selected(
        Visibility::Participant(user(1)),
        OrderSelection {
            created_after: Some(t0() + TimeDelta::minutes(5)),
            created_before: Some(t0() + TimeDelta::minutes(8)),
            ..everything()
        },
    );
    assert_eq!(
        store.list_orders(window).await.unwrap().total,
        Some(Total::Exact(3))
    );
}
