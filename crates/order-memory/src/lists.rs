//! The list reads: the rows a query matches, sorted by `(created_at, id)`, and one page of
//! them by offset or by position.

use order_domain::{Dispute, Order};
use order_ports::store::{DisputeQuery, OrderQuery, Page, PageRequest, Position, SortOrder, Total};

use crate::state::{with_dispute, State};

impl State {
    pub fn list_orders(&self, query: &OrderQuery) -> Page<Order> {
        let matching: Vec<Order> = self
            .orders
            .values()
            .map(|stored| &stored.order)
            .filter(|order| query.visibility.admits(order))
            .filter(|order| query.selection.matches(order))
            .map(|order| with_dispute(order.clone(), self.disputes.values()))
            .collect();
        page_of(
            matching,
            query.selection.sort,
            query.selection.page,
            |order| Position {
                created_at: order.created_at,
                id: *order.id.as_uuid(),
            },
        )
    }

    pub fn list_disputes(&self, query: &DisputeQuery) -> Page<Dispute> {
        let matching: Vec<Dispute> = self
            .disputes
            .values()
            .filter(|dispute| query.statuses.is_empty() || query.statuses.contains(&dispute.status))
            .cloned()
            .collect();
        page_of(matching, SortOrder::NewestFirst, query.page, |dispute| {
            Position {
                created_at: dispute.created_at,
                id: *dispute.id.as_uuid(),
            }
        })
    }
}

/// The page `request` asks of `rows`, in `sort`'s order.
fn page_of<T>(
    mut rows: Vec<T>,
    sort: SortOrder,
    request: PageRequest,
    position: impl Fn(&T) -> Position,
) -> Page<T> {
    let key = |row: &T| {
        let at = position(row);
        (at.created_at, at.id)
    };
    rows.sort_by_key(|row| key(row));
    if sort == SortOrder::NewestFirst {
        rows.reverse();
    }
    // Whether `row` comes after `place` in the list's order.
    let follows = |row: &T, place: Position| {
        let (row, place) = (key(row), (place.created_at, place.id));
        match sort {
            SortOrder::NewestFirst => row < place,
            SortOrder::OldestFirst => row > place,
        }
    };
    match request {
        PageRequest::Offset { offset, limit } => {
            let total = rows.len() as u64;
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            let items: Vec<T> = rows.into_iter().skip(start).take(limit as usize).collect();
            Page {
                has_more: offset.saturating_add(items.len() as u64) < total,
                items,
                total: Some(Total::Exact(total)),
            }
        }
        PageRequest::After { after, limit } => {
            let mut rest: Vec<T> = rows
                .into_iter()
                .filter(|row| after.map_or(true, |place| follows(row, place)))
                .collect();
            let has_more = rest.len() > limit as usize;
            rest.truncate(limit as usize);
            Page {
                items: rest,
                total: None,
                has_more,
            }
        }
        PageRequest::Before { before, limit } => {
            let mut earlier: Vec<T> = rows
                .into_iter()
                .filter(|row| precedes(key(row), before, sort))
                .collect();
            let has_more = earlier.len() > limit as usize;
            let skip = earlier.len().saturating_sub(limit as usize);
            let items = earlier.split_off(skip);
            Page {
                items,
                total: None,
                has_more,
            }
        }
    }
}

/// Whether a row at `key` comes before `place` in `sort`'s order.
fn precedes(
    key: (chrono::DateTime<chrono::Utc>, uuid::Uuid),
    place: Position,
    sort: SortOrder,
) -> bool {
    let place = (place.created_at, place.id);
    match sort {
        SortOrder::NewestFirst => key > place,
        SortOrder::OldestFirst => key < place,
    }
}
