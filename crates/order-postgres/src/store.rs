//! The store's reads, and the start of every unit of work.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use order_domain::order::{ParcelKey, Sweep};
use order_domain::personal::ErasureDue;
use order_domain::{Dispute, DisputeId, Order, OrderId, UserId};
use order_ports::store::{
    DisputeQuery, EscrowCursor, EscrowLines, EscrowScope, OrderQuery, Page, SortOrder, UserErasure,
};
use order_ports::{
    FeedEvent, HistoryEntry, IntentLease, IntentStats, OrderStore, StoreError, UnitOfWork,
};
use uuid::Uuid;

use crate::error::{connection_lost, pool_error, store_error};
use crate::list::{read_disputes, read_orders};
use crate::page::PagePlan;
use crate::pool::PgPool;
use crate::rows::{summary, DisputeRow, OrderRow, SummaryRow};
use crate::schema::{carrier_events, disputes, orders};
use crate::unit_of_work::{claims, PgUnitOfWork};

type Connection = Object<AsyncPgConnection>;

/// Runs a read (`$body`, with `$conn` a pooled connection) and maps its error. A connection
/// is not tested before use (that would cost a round trip on every request); one found
/// dead instead is dropped, and since a restarted server leaves every idle connection
/// dead, the pool's idle ones with it. A read changes nothing, so it then runs once more,
/// on a new connection. A macro, because the read borrows the connection it is given.
macro_rules! read {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let store: &PgStore = $store;
        read!(@on store.pool(), |$conn| $body)
    }};
    // A list's or a history's read: on the read replica when there is one.
    (lists $store:expr, |$conn:ident| $body:expr) => {{
        let store: &PgStore = $store;
        read!(@on store.list_pool(), |$conn| $body)
    }};
    (@on $pool:expr, |$conn:ident| $body:expr) => {{
        let pool: &crate::pool::PgPool = $pool;
        let mut connection = PgStore::connection_from(pool).await?;
        let first = {
            let $conn: &mut AsyncPgConnection = &mut connection;
            $body
        };
        match first {
            Err(error) if crate::error::connection_lost(&error) => {
                PgStore::forget_connections_of(pool, connection, &error);
                let mut connection = PgStore::connection_from(pool).await?;
                let $conn: &mut AsyncPgConnection = &mut connection;
                $body.map_err(store_error)
            }
            other => other.map_err(store_error),
        }
    }};
}
pub(crate) use read;

/// The order and dispute store on PostgreSQL.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Connections to a read replica (a streaming standby), for lists and histories: the
    /// reads that scale with the number of people browsing, and whose callers tolerate
    /// seeing a change a moment late. `None`: they use `pool`.
    lists: Option<PgPool>,
}

impl PgStore {
    pub fn new(pool: PgPool) -> PgStore {
        PgStore { pool, lists: None }
    }

    /// Sends list and history reads to `replica`; every write, every read a change is
    /// decided on, and single-order reads stay on the primary.
    pub fn with_read_replica(mut self, replica: PgPool) -> PgStore {
        self.lists = Some(replica);
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The pool list and history reads use.
    pub fn list_pool(&self) -> &PgPool {
        self.lists.as_ref().unwrap_or(&self.pool)
    }

    /// Whether the database answers, for the readiness probe.
    pub async fn ping(&self) -> Result<(), StoreError> {
        use diesel_async::SimpleAsyncConnection;
        read!(self, |conn| conn.batch_execute("SELECT 1").await)
    }

    pub(crate) async fn connection(&self) -> Result<Connection, StoreError> {
        Self::connection_from(&self.pool).await
    }

    pub(crate) async fn connection_from(pool: &PgPool) -> Result<Connection, StoreError> {
        pool.get().await.map_err(pool_error)
    }

    pub(crate) fn forget_connections(&self, dead: Connection, error: &DieselError) {
        Self::forget_connections_of(&self.pool, dead, error)
    }

    pub(crate) fn forget_connections_of(pool: &PgPool, dead: Connection, error: &DieselError) {
        tracing::warn!(%error, "a database connection was lost; reconnecting");
        drop(Object::take(dead));
        pool.retain(|_, _| false);
    }
}

/// The plans of a list's statements, for the test that refuses a filter without an index.
#[cfg(feature = "test-db")]
impl PgStore {
    /// `EXPLAIN (FORMAT JSON)` of the statements that read a page of orders: the page, and
    /// the count when it reads the orders themselves.
    pub async fn explain_list_orders(
        &self,
        query: &OrderQuery,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        read!(self, |conn| crate::list::explain_orders(conn, query).await)
    }

    /// `EXPLAIN (FORMAT JSON)` of the statement that reads a page of disputes.
    pub async fn explain_list_disputes(
        &self,
        query: &DisputeQuery,
    ) -> Result<serde_json::Value, StoreError> {
        let plan = PagePlan::new(query.page, SortOrder::NewestFirst);
        read!(self, |conn| crate::list::explain_disputes(
            conn, query, plan
        )
        .await)
    }
}

/// Each order row with its dispute's summary, read in one statement for all of them: the
/// rows were locked on their own (`FOR UPDATE` cannot take the nullable side of an outer
/// join).
pub(crate) async fn with_disputes(
    conn: &mut AsyncPgConnection,
    rows: Vec<OrderRow>,
) -> Result<Vec<Order>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let summaries: Vec<SummaryRow> = disputes::table
        .filter(disputes::order_id.eq_any(ids))
        .select(SUMMARY_COLUMNS)
        .load(conn)
        .await
        .map_err(store_error)?;
    rows.into_iter()
        .map(|row| {
            let dispute = summaries.iter().find(|s| s.1 == row.id).cloned();
            with_summary((row, dispute))
        })
        .collect()
}

/// The columns of a dispute's summary.
pub(crate) const SUMMARY_COLUMNS: (
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

/// An order row read with its dispute's summary, as the domain's order.
pub(crate) fn with_summary(
    (order, dispute): (OrderRow, Option<SummaryRow>),
) -> Result<Order, StoreError> {
    order.into_order(dispute.as_ref().map(summary).transpose()?)
}

/// [`with_summary`] for each of `rows`.
pub(crate) fn with_summaries(
    rows: Vec<(OrderRow, Option<SummaryRow>)>,
) -> Result<Vec<Order>, StoreError> {
    rows.into_iter().map(with_summary).collect()
}

impl PgStore {
    /// The plan of `sweep`'s claim at `now`, as `EXPLAIN` prints it with sequential scans
    /// priced out: whether the partial index made for the sweep serves it.
    pub async fn explain_claim(
        &self,
        sweep: Sweep,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let connection = self.connection().await?;
        let mut unit = PgUnitOfWork::begin(connection)
            .await
            .map_err(|(_, error)| store_error(error))?;
        // Dropped unfinished: rolled back, setting and all.
        unit.explain_claim(sweep, now).await
    }

    /// The plan of an erasure's claim under `due`, as `EXPLAIN` prints it with sequential
    /// scans priced out: whether the index made for it serves it.
    pub async fn explain_erasure_claim(&self, due: ErasureDue) -> Result<String, StoreError> {
        let connection = self.connection().await?;
        let mut unit = PgUnitOfWork::begin(connection)
            .await
            .map_err(|(_, error)| store_error(error))?;
        unit.explain_erasable(due).await
    }

    /// The plan of a carrier's lookup of `parcel`'s orders, as `EXPLAIN` prints it with
    /// sequential scans priced out: whether the index made for it serves it.
    pub async fn explain_parcel(&self, parcel: &ParcelKey) -> Result<String, StoreError> {
        let connection = self.connection().await?;
        let mut unit = PgUnitOfWork::begin(connection)
            .await
            .map_err(|(_, error)| store_error(error))?;
        unit.explain_parcel(parcel).await
    }
}

#[async_trait]
impl OrderStore for PgStore {
    /// A write is retried only here, where its transaction has not begun: after BEGIN,
    /// a lost connection takes the transaction with it, and the caller hears 503.
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        let connection = self.connection().await?;
        let connection = match PgUnitOfWork::begin(connection).await {
            Ok(unit) => return Ok(Box::new(unit)),
            Err((connection, error)) if connection_lost(&error) => {
                self.forget_connections(connection, &error);
                self.connection().await?
            }
            Err((_, error)) => return Err(store_error(error)),
        };
        PgUnitOfWork::begin(connection)
            .await
            .map(|unit| Box::new(unit) as Box<dyn UnitOfWork>)
            .map_err(|(_, error)| store_error(error))
    }

    /// The hot read: one statement, the order joined with its dispute's summary.
    async fn order(&self, id: OrderId) -> Result<Option<Order>, StoreError> {
        let row: Option<(OrderRow, Option<SummaryRow>)> = read!(self, |conn| orders::table
            .left_join(disputes::table)
            .filter(orders::id.eq(*id.as_uuid()))
            .select((OrderRow::as_select(), SUMMARY_COLUMNS.nullable()))
            .first(conn)
            .await
            .optional())?;
        row.map(with_summary).transpose()
    }

    async fn list_orders(&self, query: OrderQuery) -> Result<Page<Order>, StoreError> {
        let page = read!(lists self, |conn| read_orders(conn, &query).await)?;
        Ok(Page {
            items: with_summaries(page.items)?,
            total: page.total,
            has_more: page.has_more,
        })
    }

    async fn dispute(&self, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        read!(self, |conn| disputes::table
            .find(*id.as_uuid())
            .select(DisputeRow::as_select())
            .first(conn)
            .await
            .optional())?
        .map(Dispute::try_from)
        .transpose()
    }

    async fn claim_stale_intents(&self, lease: IntentLease) -> Result<Vec<Order>, StoreError> {
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
        .bind::<Timestamptz, _>(lease.until)
        .bind::<Timestamptz, _>(lease.now)
        .bind::<BigInt, _>(i64::try_from(lease.limit).unwrap_or(i64::MAX))
        .load(&mut conn)
        .await
        .map_err(store_error)?;
        with_disputes(&mut conn, rows).await
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

    async fn oldest_due(
        &self,
        sweep: Sweep,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut conn = self.connection().await?;
        claims::oldest_due(&mut conn, sweep, now).await
    }

    async fn oldest_unanswered_dispute(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut conn = self.connection().await?;
        claims::oldest_unanswered(&mut conn, now).await
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

    async fn forget_carrier_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut conn = self.connection().await?;
        let forgotten =
            diesel::delete(carrier_events::table.filter(carrier_events::received_at.lt(before)))
                .execute(&mut conn)
                .await
                .map_err(store_error)?;
        Ok(u64::try_from(forgotten).unwrap_or_default())
    }

    async fn erasure_of(&self, user: UserId) -> Result<UserErasure, StoreError> {
        self.erasure_counts(user).await
    }

    async fn backfill_ended_at(&self, limit: usize) -> Result<u64, StoreError> {
        self.fill_ended_at(limit).await
    }

    async fn escrow_lines(
        &self,
        scope: EscrowScope,
        after: Option<EscrowCursor>,
        limit: usize,
    ) -> Result<EscrowLines, StoreError> {
        self.read_escrow_lines(scope, after, limit).await
    }

    async fn list_disputes(&self, query: DisputeQuery) -> Result<Page<Dispute>, StoreError> {
        let plan = PagePlan::new(query.page, SortOrder::NewestFirst);
        let page = read!(lists self, |conn| read_disputes(conn, &query, plan).await)?;
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
