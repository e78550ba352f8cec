//! Offset and keyset pagination over `(created_at, id)`, the same for every list.

use crate::fragment::Keyset;
use order_ports::store::{Page, PageRequest, Position, SortOrder, Total};

/// The one database read a page request turns into, and how to make a page of its rows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PagePlan {
    request: PageRequest,
    /// Only rows strictly past this position, in `descending` order.
    pub after: Option<Position>,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
}

impl PagePlan {
    pub fn new(request: PageRequest, sort: SortOrder) -> PagePlan {
        let newest_first = sort == SortOrder::NewestFirst;
        let (after, descending, offset, limit) = match request {
            // One row more than asked tells whether another page follows.
            PageRequest::Offset { offset, limit } => (
                None,
                newest_first,
                i64::try_from(offset).unwrap_or(i64::MAX),
                i64::from(limit) + 1,
            ),
            PageRequest::After { after, limit } => (after, newest_first, 0, i64::from(limit) + 1),
            // Read backwards from the position; `page` turns the rows back into list order.
            PageRequest::Before { before, limit } => {
                (Some(before), !newest_first, 0, i64::from(limit) + 1)
            }
        };
        PagePlan {
            request,
            after,
            descending,
            offset,
            limit,
        }
    }

    /// Offset pages report the total count.
    pub fn needs_count(&self) -> bool {
        matches!(self.request, PageRequest::Offset { .. })
    }

    /// The keyset condition: only rows strictly past the position, in the plan's order.
    pub fn keyset(&self, table: &'static str) -> Option<Keyset> {
        self.after.map(|position| Keyset {
            table,
            before: self.descending,
            created_at: position.created_at,
            id: position.id,
        })
    }

    /// How many rows each part of a merged read needs: everything up to the page's end.
    pub fn rows_through_page(&self) -> i64 {
        self.offset.saturating_add(self.limit)
    }

    /// The page made of the rows the plan read (and the count, for offset pages).
    pub fn page<R>(&self, mut items: Vec<R>, total: Option<Total>) -> Page<R> {
        let limit = match self.request {
            PageRequest::Offset { limit, .. }
            | PageRequest::After { limit, .. }
            | PageRequest::Before { limit, .. } => limit as usize,
        };
        let has_more = items.len() > limit;
        items.truncate(limit);
        if matches!(self.request, PageRequest::Before { .. }) {
            items.reverse();
        }
        Page {
            items,
            total,
            has_more,
        }
    }
}
