//! The store's reads, and the start of every unit of work.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use order_domain::{Dispute, DisputeId, Order, OrderId};
use order_ports::store::{DisputeQuery, OrderQuery, Page, SortOrder, Visibility};
use order_ports::{FeedEvent, HistoryEntry, IntentStats, OrderStore, StoreError, UnitOfWork};

use crate::error::{pool_error, store_error};
use crate::page::PagePlan;
use crate::pool::PgPool;
use crate::rows::{summary, DisputeRow, OrderRow, SummaryRow};
use crate::schema::{disputes, orders};
use crate::unit_of_work::PgUnitOfWork;

/// The order and dispute store on PostgreSQL.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub fn new(pool: PgPool) -> PgStore {
        PgStore { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether the database answers, for the readiness probe.
    pub async fn ping(&self) -> Result<(), StoreError> {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = self.connection().await?;
        conn.batch_execute("SELECT 1").await.map_err(store_error)
    }

    async fn connection(
        &self,
    ) -> Result<diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>, StoreError>
    {
        self.pool.get().await.map_err(pool_error)
    }
}

/// An order locked on its own (`FOR UPDATE` cannot take the nullable side of an outer
/// join), then given its dispute's summary.
pub(crate) async fn with_dispute(
    conn: &mut AsyncPgConnection,
    row: OrderRow,
) -> Result<Order, StoreError> {
    let dispute: Option<SummaryRow> = disputes::table
        .filter(disputes::order_id.eq(row.id))
        .select(SUMMARY_COLUMNS)
        .first(conn)
        .await
        .optional()
        .map_err(store_error)?;
    with_summary((row, dispute))
}

/// Orders, each with its dispute if it has one (at most one: `disputes.order_id` is unique).
type OrdersWithDisputes = diesel::dsl::LeftJoin<orders::table, disputes::table>;

/// The columns of a dispute's summary.
const SUMMARY_COLUMNS: (
    disputes::id,
    disputes::order_id,
    disputes::status,
    disputes::resolution,
) = (
    disputes::id,
    disputes::order_id,
    disputes::status,
    disputes::resolution,
);

/// The columns of a dispute's summary, null for an order without one.
fn summary_columns() -> diesel::dsl::Nullable<(
    disputes::id,
    disputes::order_id,
    disputes::status,
    disputes::resolution,
)> {
    SUMMARY_COLUMNS.nullable()
}

/// An order row read with its dispute's summary, as the domain's order.
fn with_summary((order, dispute): (OrderRow, Option<SummaryRow>)) -> Result<Order, StoreError> {
    order.into_order(dispute.as_ref().map(summary).transpose()?)
}

/// A condition that is always true and keeps its statement out of the prepared-statement
/// cache (diesel never caches a statement with an SQL literal), so that PostgreSQL plans it
/// for its own parameters each time. Once cached, a `buyer OR seller` page soon runs on a
/// generic plan that reads every order of the user from the heap and sorts them: 580 ms
/// instead of under 1 ms for a user with 26,000 orders, and half the throughput even for one
/// with 1,200 (docs/benchmarks.md).
fn planned_for_its_own_parameters() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>("TRUE")
}

fn filtered_orders(query: &OrderQuery) -> diesel::dsl::IntoBoxed<'static, OrdersWithDisputes, Pg> {
    let mut select = orders::table.left_join(disputes::table).into_boxed();
    select = match query.visibility {
        Visibility::All => select,
        Visibility::Participant(user) => {
            let user = *user.as_uuid();
            select
                .filter(orders::buyer_id.eq(user).or(orders::seller_id.eq(user)))
                .filter(planned_for_its_own_parameters())
        }
        Visibility::Buyer(user) => select.filter(orders::buyer_id.eq(*user.as_uuid())),
        Visibility::Seller(user) => select.filter(orders::seller_id.eq(*user.as_uuid())),
    };
    if !query.statuses.is_empty() {
        let statuses: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
        select = select.filter(orders::status.eq_any(statuses));
    }
    if let Some(listing) = query.listing_id {
        select = select.filter(orders::listing_id.eq(*listing.as_uuid()));
    }
    if let Some(after) = query.created_after {
        select = select.filter(orders::created_at.ge(after));
    }
    if let Some(before) = query.created_before {
        select = select.filter(orders::created_at.lt(before));
    }
    select
}

fn filtered_disputes(query: &DisputeQuery) -> disputes::BoxedQuery<'static, Pg> {
    let mut select = disputes::table.into_boxed();
    if !query.statuses.is_empty() {
        let statuses: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
        select = select.filter(disputes::status.eq_any(statuses));
    }
    select
}

/// How many orders the query matches. A participant's count is the orders they buy plus
/// the orders they sell: two index-only counts, where `buyer OR seller` makes PostgreSQL
/// visit every matching row in the heap (ten times slower for a user with 20,000 orders).
/// Exact, because no order has the same buyer and seller (`orders_buyer_is_not_seller`).
async fn count_orders(conn: &mut AsyncPgConnection, query: &OrderQuery) -> Result<i64, StoreError> {
    let sides = match query.visibility {
        Visibility::Participant(user) => {
            vec![Visibility::Buyer(user), Visibility::Seller(user)]
        }
        other => vec![other],
    };
    let mut total = 0;
    for visibility in sides {
        let side = OrderQuery {
            visibility,
            ..query.clone()
        };
        total += filtered_orders(&side)
            .count()
            .get_result::<i64>(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    Ok(total)
}

/// One page of `$table` rows matching `$filtered` (a boxed query), read as `$selection`, as
/// the plan says: the keyset filter, the order by `(created_at, id)`, the slice, and for
/// offset pages the total `$count` (an expression run only then). A macro because each
/// table's query has its own type.
macro_rules! read_page {
    ($conn:expr, $plan:expr, $table:ident, $filtered:expr, $selection:expr, $count:expr) => {{
        let plan = $plan;
        let mut select = $filtered;
        if let Some(keyset) = plan.keyset(stringify!($table)) {
            select = select.filter(keyset);
        }
        select = if plan.descending {
            select.order(($table::created_at.desc(), $table::id.desc()))
        } else {
            select.order(($table::created_at.asc(), $table::id.asc()))
        };
        let rows = select
            .offset(plan.offset)
            .limit(plan.limit)
            .select($selection)
            .load($conn)
            .await
            .map_err(store_error)?;
        let total = if plan.needs_count() {
            Some($count)
        } else {
            None
        };
        plan.page(rows, total)
    }};
}

#[async_trait]
impl OrderStore for PgStore {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        let connection = self.connection().await?;
        Ok(Box::new(PgUnitOfWork::begin(connection).await?))
    }

    /// The hot read: one query, the order joined with its dispute's summary.
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        let mut conn = self.connection().await?;
        let row: Option<(OrderRow, Option<SummaryRow>)> = orders::table
            .left_join(disputes::table)
            .filter(orders::id.eq(*id.as_uuid()))
            .select((OrderRow::as_select(), summary_columns()))
            .first(&mut conn)
            .await
            .optional()
            .map_err(store_error)?;
        row.map(with_summary).transpose()
    }

    async fn list_orders(&self, query: OrderQuery) -> Result<Page<Order>, StoreError> {
        let plan = PagePlan::new(query.page, query.sort);
        let mut conn = self.connection().await?;
        let page: Page<(OrderRow, Option<SummaryRow>)> = read_page!(
            &mut conn,
            plan,
            orders,
            filtered_orders(&query),
            (OrderRow::as_select(), summary_columns()),
            count_orders(&mut conn, &query).await?
        );
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(with_summary)
                .collect::<Result<_, _>>()?,
            total: page.total,
            has_more: page.has_more,
        })
    }

    async fn dispute(&self, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        let mut conn = self.connection().await?;
        disputes::table
            .find(*id.as_uuid())
            .select(DisputeRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(store_error)?
            .map(Dispute::try_from)
            .transpose()
    }

    async fn claim_stale_intents(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        use diesel::sql_types::{BigInt, Timestamptz};
        let mut conn = self.connection().await?;
        // Diesel's builder has no `FOR UPDATE SKIP LOCKED` inside a subquery.
        let rows: Vec<OrderRow> = diesel::sql_query(
            "UPDATE orders SET escrow_intent_resume_at = $1 \
             WHERE id IN (SELECT id FROM orders \
                          WHERE escrow_intent_resume_at <= $2 \
                          ORDER BY escrow_intent_resume_at LIMIT $3 \
                          FOR UPDATE SKIP LOCKED) \
             RETURNING *",
        )
        .bind::<Timestamptz, _>(lease_until)
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(&mut conn)
        .await
        .map_err(store_error)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            claimed.push(with_dispute(&mut conn, row).await?);
        }
        Ok(claimed)
    }

    async fn intent_stats(&self) -> Result<IntentStats, StoreError> {
        use diesel::dsl::{count_star, sql};
        use diesel::sql_types::{Nullable, Timestamptz};
        let mut conn = self.connection().await?;
        let (pending, oldest): (i64, Option<DateTime<Utc>>) = orders::table
            .filter(orders::escrow_intent_resume_at.is_not_null())
            .select((
                count_star(),
                sql::<Nullable<Timestamptz>>("min((escrow_intent->>'requested_at')::timestamptz)"),
            ))
            .first(&mut conn)
            .await
            .map_err(store_error)?;
        Ok(IntentStats {
            pending: pending.try_into().unwrap_or_default(),
            oldest,
        })
    }

    async fn history(
        &self,
        order: OrderId,
        offset: u64,
        limit: u32,
    ) -> Result<Page<HistoryEntry>, StoreError> {
        self.read_history(order, offset, limit).await
    }

    async fn assign_feed_positions(&self, limit: usize) -> Result<usize, StoreError> {
        self.sequence_feed(limit).await
    }

    async fn feed(&self, after: u64, limit: u32) -> Result<Vec<FeedEvent>, StoreError> {
        self.read_feed(after, limit).await
    }

    async fn list_disputes(&self, query: DisputeQuery) -> Result<Page<Dispute>, StoreError> {
        let plan = PagePlan::new(query.page, SortOrder::NewestFirst);
        let mut conn = self.connection().await?;
        let page = read_page!(
            &mut conn,
            plan,
            disputes,
            filtered_disputes(&query),
            DisputeRow::as_select(),
            filtered_disputes(&query)
                .count()
                .get_result::<i64>(&mut conn)
                .await
                .map_err(store_error)?
        );
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(Dispute::try_from)
                .collect::<Result<_, _>>()?,
            total: page.total,
            has_more: page.has_more,
        })
    }
}
