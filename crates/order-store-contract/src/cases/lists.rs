//! The order list: exactly the orders a query's visibility admits and its selection
//! matches, counted, and keyset pages that walk the whole list both ways.

use super::*;

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
