//! Offset and keyset pagination over `(created_at, id)`, the same for every list.

use diesel::dsl::sql;
use diesel::expression::{AppearsOnTable, NonAggregate};
use diesel::pg::Pg;
use diesel::query_builder::QueryFragment;
use diesel::sql_types::{Bool, Timestamptz, Uuid as SqlUuid};
use order_ports::store::{Page, PageRequest, Position, SortOrder};

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
            PageRequest::Offset { offset, limit } => (
                None,
                newest_first,
                i64::try_from(offset).unwrap_or(i64::MAX),
                i64::from(limit),
            ),
            // One row more than asked tells whether another page follows.
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

    /// `(table.created_at, table.id) < (…)` (or `>`), the row comparison that an index on
    /// `(created_at DESC, id DESC)` serves directly.
    pub fn keyset<T>(
        &self,
        table: &str,
    ) -> Option<impl AppearsOnTable<T, SqlType = Bool> + NonAggregate + QueryFragment<Pg> + Send>
    {
        self.after.map(|position| {
            let operator = if self.descending { "<" } else { ">" };
            sql::<Bool>(&format!("({table}.created_at, {table}.id) {operator} ("))
                .bind::<Timestamptz, _>(position.created_at)
                .sql(", ")
                .bind::<SqlUuid, _>(position.id)
                .sql(")")
        })
    }

    /// The page made of the rows the plan read (and the count, for offset pages).
    pub fn page<R>(&self, mut items: Vec<R>, total: Option<i64>) -> Page<R> {
        match self.request {
            PageRequest::Offset { offset, .. } => {
                let total = total
                    .and_then(|t| u64::try_from(t).ok())
                    .unwrap_or_default();
                let has_more = offset.saturating_add(items.len() as u64) < total;
                Page {
                    items,
                    total: Some(total),
                    has_more,
                }
            }
            PageRequest::After { limit, .. } | PageRequest::Before { limit, .. } => {
                let has_more = items.len() > limit as usize;
                items.truncate(limit as usize);
                if matches!(self.request, PageRequest::Before { .. }) {
                    items.reverse();
                }
                Page {
                    items,
                    total: None,
                    has_more,
                }
            }
        }
    }
}
