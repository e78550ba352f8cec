//! Lists of orders and disputes. A page and its count are sent together (pipelined on one
//! connection), so a numbered page costs one round trip; each filter reads through an
//! index in keyset order, so a page reads about one page of index entries however large
//! the table; and the count comes from the kept counts where they answer, so it does not
//! grow with the table either.

use std::future::Future;

use diesel::dsl::{AsSelect, IntoBoxed, LeftJoin, Nullable, Select, SqlTypeOf};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use order_ports::store::{DisputeQuery, OrderQuery, Page, Total, Visibility};
use uuid::Uuid;

use crate::fragment::{Around, MergedPages};
use crate::page::PagePlan;
use crate::rows::{DisputeRow, OrderRow, SummaryRow};
use crate::schema::{dispute_counts, disputes, order_counts, orders, user_order_counts};
use crate::store::SUMMARY_COLUMNS;

/// How far a count goes for a filter that no kept count answers (a created range, say):
/// beyond this many rows it answers [`Total::AtLeast`] instead of reading on.
pub(crate) const COUNT_CAP: i64 = 10_000;

/// An order read for a list: its row and its dispute's summary.
pub(crate) type OrderListRow = (OrderRow, Option<SummaryRow>);

type OrdersWithDisputes = LeftJoin<orders::table, disputes::table>;
type FilteredOrders = IntoBoxed<'static, OrdersWithDisputes, Pg>;
type SummaryColumns = (
    disputes::id,
    disputes::order_id,
    disputes::status,
    disputes::resolution,
);
type OrderSelection = (AsSelect<OrderRow, Pg>, Nullable<SummaryColumns>);
type OrderPageQuery = Select<FilteredOrders, OrderSelection>;

/// The position of `created_at` among an order list's columns (the order's columns in
/// `OrderRow`'s order, then the dispute's), for the merged read's `ORDER BY`.
const CREATED_AT_COLUMN: usize = 14;

fn order_selection() -> OrderSelection {
    (OrderRow::as_select(), SUMMARY_COLUMNS.nullable())
}

/// Whose orders one index read covers: a participant's list is two of them, merged.
#[derive(Clone, Copy)]
enum Side {
    All,
    Buyer(Uuid),
    Seller(Uuid),
}

fn sides(visibility: Visibility) -> Vec<Side> {
    match visibility {
        Visibility::All => vec![Side::All],
        Visibility::Buyer(user) => vec![Side::Buyer(*user.as_uuid())],
        Visibility::Seller(user) => vec![Side::Seller(*user.as_uuid())],
        Visibility::Participant(user) => {
            vec![Side::Buyer(*user.as_uuid()), Side::Seller(*user.as_uuid())]
        }
    }
}

/// One index read of a list: a side, and at most one status. A list of several statuses,
/// or a participant's, is several of them merged: each reads its index in keyset order,
/// where `a OR b` or `= ANY` in one statement would read every matching row and sort.
#[derive(Clone, Copy)]
struct Part<'q> {
    side: Side,
    status: Option<&'q str>,
    query: &'q OrderQuery,
}

fn parts(query: &OrderQuery) -> Vec<Part<'_>> {
    let statuses: Vec<Option<&str>> = match query.selection.statuses.as_slice() {
        [] => vec![None],
        many => many.iter().map(|status| Some(status.as_str())).collect(),
    };
    sides(query.visibility)
        .into_iter()
        .flat_map(|side| {
            statuses.iter().map(move |&status| Part {
                side,
                status,
                query,
            })
        })
        .collect()
}

fn filtered_orders(part: Part<'_>) -> FilteredOrders {
    let mut select = orders::table.left_join(disputes::table).into_boxed();
    select = match part.side {
        Side::All => select,
        Side::Buyer(user) => select.filter(orders::buyer_id.eq(user)),
        Side::Seller(user) => select.filter(orders::seller_id.eq(user)),
    };
    if let Some(status) = part.status {
        select = select.filter(orders::status.eq(status.to_owned()));
    }
    let query = part.query;
    if let Some(listing) = query.selection.listing_id {
        select = select.filter(orders::listing_id.eq(*listing.as_uuid()));
    }
    if let Some(after) = query.selection.created_after {
        select = select.filter(orders::created_at.ge(after));
    }
    if let Some(before) = query.selection.created_before {
        select = select.filter(orders::created_at.lt(before));
    }
    select
}

/// `$select` (a boxed query of `$table`) cut to the plan's keyset and put in its order:
/// `(created_at, id)`, newest or oldest first. A macro, because each table's query is a
/// type of its own.
macro_rules! in_keyset_order {
    ($select:expr, $plan:expr, $table:ident) => {{
        let plan: &PagePlan = $plan;
        let mut select = $select;
        if let Some(keyset) = plan.keyset(stringify!($table)) {
            select = select.filter(keyset);
        }
        if plan.descending {
            select.order(($table::created_at.desc(), $table::id.desc()))
        } else {
            select.order(($table::created_at.asc(), $table::id.asc()))
        }
    }};
}

/// One part's rows for the page, in keyset order: `offset` and `limit` as given.
fn part_page(part: Part<'_>, plan: &PagePlan, offset: i64, limit: i64) -> OrderPageQuery {
    in_keyset_order!(filtered_orders(part), plan, orders)
        .offset(offset)
        .limit(limit)
        .select(order_selection())
}

/// The statement that reads a page: one index read, or several merged.
enum PageRead<Q, ST> {
    One(Q),
    Merged(MergedPages<Q, ST>),
}

/// `$body` with `$query` the page's statement, whichever kind it is (each kind is a type
/// of its own, so a macro rather than a function).
macro_rules! with_page_read {
    ($read:expr, |$query:ident| $body:expr) => {
        match $read {
            PageRead::One($query) => $body,
            PageRead::Merged($query) => $body,
        }
    };
}

type OrderPageRead = PageRead<OrderPageQuery, SqlTypeOf<OrderSelection>>;

fn order_page(query: &OrderQuery, plan: &PagePlan) -> OrderPageRead {
    match parts(query).as_slice() {
        [part] => PageRead::One(part_page(*part, plan, plan.offset, plan.limit)),
        many => {
            let through = plan.rows_through_page();
            PageRead::Merged(MergedPages::new(
                many.iter()
                    .map(|part| part_page(*part, plan, 0, through))
                    .collect(),
                CREATED_AT_COLUMN,
                plan,
            ))
        }
    }
}

fn load_order_page(
    mut conn: &AsyncPgConnection,
    read: OrderPageRead,
) -> impl Future<Output = QueryResult<Vec<OrderListRow>>> + Send + '_ {
    with_page_read!(read, |query| query.load::<OrderListRow>(&mut conn))
}

/// How a list's count is found.
enum OrderCount {
    /// From `order_counts`: every order, or those of some statuses.
    ByStatus(Vec<String>),
    /// From `user_order_counts`: a user's orders on some sides.
    ByUser(Uuid, Vec<&'static str>),
    /// `count(*)` of each side: a listing's orders, a handful at most.
    Exact,
    /// `count(*)` of each side up to [`COUNT_CAP`].
    Capped,
}

fn order_count(query: &OrderQuery) -> OrderCount {
    if query.selection.listing_id.is_some() {
        return OrderCount::Exact;
    }
    if query.selection.created_after.is_some() || query.selection.created_before.is_some() {
        return OrderCount::Capped;
    }
    let user_sides = match query.visibility {
        Visibility::All => {
            return OrderCount::ByStatus(
                query
                    .selection
                    .statuses
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect(),
            )
        }
        Visibility::Buyer(user) => (user, vec!["buyer"]),
        Visibility::Seller(user) => (user, vec!["seller"]),
        Visibility::Participant(user) => (user, vec!["buyer", "seller"]),
    };
    if query.selection.statuses.is_empty() {
        OrderCount::ByUser(*user_sides.0.as_uuid(), user_sides.1)
    } else {
        OrderCount::Capped
    }
}

/// The count of a list: kept counts where they answer, else `count(*)`, capped where the
/// rows it would read are not bounded.
async fn count_orders(mut conn: &AsyncPgConnection, query: &OrderQuery) -> QueryResult<Total> {
    let kept = |counts: Vec<i64>| {
        Total::Exact(u64::try_from(counts.iter().sum::<i64>()).unwrap_or_default())
    };
    match order_count(query) {
        OrderCount::ByStatus(statuses) => {
            let mut select = order_counts::table.select(order_counts::n).into_boxed();
            if !statuses.is_empty() {
                select = select.filter(order_counts::status.eq_any(statuses));
            }
            select.load::<i64>(&mut conn).await.map(kept)
        }
        OrderCount::ByUser(user, sides) => user_order_counts::table
            .filter(user_order_counts::user_id.eq(user))
            .filter(user_order_counts::side.eq_any(sides))
            .select(user_order_counts::n)
            .load::<i64>(&mut conn)
            .await
            .map(kept),
        OrderCount::Exact => {
            let mut total = 0;
            for part in parts(query) {
                total += filtered_orders(part)
                    .count()
                    .get_result::<i64>(&mut conn)
                    .await?;
            }
            Ok(Total::Exact(u64::try_from(total).unwrap_or_default()))
        }
        OrderCount::Capped => {
            let mut total = 0;
            let mut capped = false;
            for part in parts(query) {
                let counted = capped_count(filtered_orders(part))
                    .get_result::<i64>(&mut conn)
                    .await?;
                capped |= counted > COUNT_CAP;
                total += counted;
            }
            let total = u64::try_from(total).unwrap_or_default();
            Ok(if capped {
                Total::AtLeast(COUNT_CAP as u64)
            } else {
                Total::Exact(total)
            })
        }
    }
}

/// `count(*)` of at most `COUNT_CAP + 1` of the filter's rows.
fn capped_count(
    filtered: FilteredOrders,
) -> Around<diesel::dsl::Limit<Select<FilteredOrders, orders::id>>, diesel::sql_types::BigInt> {
    Around::new(
        "SELECT count(*) FROM (",
        filtered.select(orders::id).limit(COUNT_CAP + 1),
        ") capped",
    )
}

/// A page of orders and, for a numbered page, its count: both sent before either answer
/// is awaited.
pub(crate) async fn read_orders(
    conn: &AsyncPgConnection,
    query: &OrderQuery,
) -> QueryResult<Page<OrderListRow>> {
    let plan = PagePlan::new(query.selection.page, query.selection.sort);
    let rows = load_order_page(conn, order_page(query, &plan));
    if plan.needs_count() {
        let (rows, total) = crate::pipeline::both(rows, count_orders(conn, query)).await?;
        Ok(plan.page(rows, Some(total)))
    } else {
        Ok(plan.page(rows.await?, None))
    }
}

type DisputePageQuery = Select<disputes::BoxedQuery<'static, Pg>, AsSelect<DisputeRow, Pg>>;

/// The position of `created_at` among a dispute's columns, in `DisputeRow`'s order.
const DISPUTE_CREATED_AT_COLUMN: usize = 12;

/// The disputes of one status (or of any), in keyset order: `offset` and `limit` as given.
fn status_page(status: Option<&str>, plan: &PagePlan, offset: i64, limit: i64) -> DisputePageQuery {
    let mut select = disputes::table.into_boxed();
    if let Some(status) = status {
        select = select.filter(disputes::status.eq(status.to_owned()));
    }
    in_keyset_order!(select, plan, disputes)
        .offset(offset)
        .limit(limit)
        .select(DisputeRow::as_select())
}

/// The statement that reads a page of disputes: one index read, or one a status merged.
type DisputePageRead = PageRead<DisputePageQuery, SqlTypeOf<AsSelect<DisputeRow, Pg>>>;

fn dispute_page(query: &DisputeQuery, plan: &PagePlan) -> DisputePageRead {
    match query.statuses.as_slice() {
        [] => PageRead::One(status_page(None, plan, plan.offset, plan.limit)),
        [one] => PageRead::One(status_page(
            Some(one.as_str()),
            plan,
            plan.offset,
            plan.limit,
        )),
        many => {
            let through = plan.rows_through_page();
            let parts = many
                .iter()
                .map(|status| status_page(Some(status.as_str()), plan, 0, through))
                .collect();
            PageRead::Merged(MergedPages::new(parts, DISPUTE_CREATED_AT_COLUMN, plan))
        }
    }
}

fn load_dispute_page(
    mut conn: &AsyncPgConnection,
    read: DisputePageRead,
) -> impl Future<Output = QueryResult<Vec<DisputeRow>>> + Send + '_ {
    with_page_read!(read, |query| query.load::<DisputeRow>(&mut conn))
}

/// A page of disputes and, for a numbered page, its count from `dispute_counts` (a list of
/// disputes filters by status only, which the kept counts always answer).
pub(crate) async fn read_disputes(
    mut conn: &AsyncPgConnection,
    query: &DisputeQuery,
    plan: PagePlan,
) -> QueryResult<Page<DisputeRow>> {
    let rows = load_dispute_page(conn, dispute_page(query, &plan));
    if plan.needs_count() {
        let mut counts = dispute_counts::table.select(dispute_counts::n).into_boxed();
        if !query.statuses.is_empty() {
            let statuses: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
            counts = counts.filter(dispute_counts::status.eq_any(statuses));
        }
        let (rows, counts) = crate::pipeline::both(rows, counts.load::<i64>(&mut conn)).await?;
        let total = u64::try_from(counts.iter().sum::<i64>()).unwrap_or_default();
        Ok(plan.page(rows, Some(Total::Exact(total))))
    } else {
        Ok(plan.page(rows.await?, None))
    }
}

/// The plans PostgreSQL makes for a list's statements (`EXPLAIN (FORMAT JSON)`): its page,
/// and its count when that reads the orders themselves. For the test that refuses a
/// filter without an index: sequential scans and sorts are priced out first, so one that
/// remains in a plan is there because no index serves the filter, or its order.
#[cfg(feature = "test-db")]
pub(crate) async fn explain_orders(
    mut conn: &AsyncPgConnection,
    query: &OrderQuery,
) -> QueryResult<Vec<serde_json::Value>> {
    use diesel::sql_types::Json;
    use diesel_async::SimpleAsyncConnection;
    const EXPLAIN: &str = "EXPLAIN (FORMAT JSON) ";
    conn.batch_execute("SET enable_seqscan = off; SET enable_sort = off")
        .await?;
    let plan = PagePlan::new(query.selection.page, query.selection.sort);
    let mut plans = vec![with_page_read!(order_page(query, &plan), |page| {
        Around::<_, Json>::new(EXPLAIN, page, "")
            .get_result(&mut conn)
            .await?
    })];
    match order_count(query) {
        OrderCount::Exact => {
            for part in parts(query) {
                let count = filtered_orders(part).count();
                plans.push(
                    Around::<_, Json>::new(EXPLAIN, count, "")
                        .get_result(&mut conn)
                        .await?,
                );
            }
        }
        OrderCount::Capped => {
            for part in parts(query) {
                let count = capped_count(filtered_orders(part));
                plans.push(
                    Around::<_, Json>::new(EXPLAIN, count, "")
                        .get_result(&mut conn)
                        .await?,
                );
            }
        }
        OrderCount::ByStatus(_) | OrderCount::ByUser(..) => {}
    }
    conn.batch_execute("RESET enable_seqscan; RESET enable_sort")
        .await?;
    Ok(plans)
}

/// The plan of a page of disputes; see [`explain_orders`].
#[cfg(feature = "test-db")]
pub(crate) async fn explain_disputes(
    mut conn: &AsyncPgConnection,
    query: &DisputeQuery,
    plan: PagePlan,
) -> QueryResult<serde_json::Value> {
    use diesel::sql_types::Json;
    use diesel_async::SimpleAsyncConnection;
    const EXPLAIN: &str = "EXPLAIN (FORMAT JSON) ";
    conn.batch_execute("SET enable_seqscan = off; SET enable_sort = off")
        .await?;
    let explained = with_page_read!(dispute_page(query, &plan), |page| {
        Around::<_, Json>::new(EXPLAIN, page, "")
            .get_result(&mut conn)
            .await?
    });
    conn.batch_execute("RESET enable_seqscan; RESET enable_sort")
        .await?;
    Ok(explained)
}
