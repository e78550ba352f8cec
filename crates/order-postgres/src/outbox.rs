//! The outbox table, as the relay reads and updates it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Timestamptz};
use diesel_async::RunQueryDsl;
use order_ports::trace::TraceContext;
use order_ports::{
    Outbox, OutboxBatch, OutboxMessage, OutboxStats, PendingEvent, PublishFailure, StoreError,
};
use uuid::Uuid;

use crate::error::{corrupt, pool_error, store_error};
use crate::schema::outbox;
use crate::store::PgStore;
use crate::unit_of_work::PgUnitOfWork;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    event_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    event_type: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    order_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    payload: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Text>)]
    traceparent: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    refusals: i32,
}

impl TryFrom<Row> for PendingEvent {
    type Error = StoreError;

    fn try_from(row: Row) -> Result<PendingEvent, StoreError> {
        let event_type = order_domain::EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == row.event_type)
            .ok_or_else(|| corrupt("event type", &row.event_type))?;
        Ok(PendingEvent {
            seq: row.seq,
            attempts: u32::try_from(row.attempts).unwrap_or_default(),
            refusals: u32::try_from(row.refusals).unwrap_or_default(),
            message: OutboxMessage {
                event_id: row.event_id.into(),
                event_type,
                order_id: row.order_id.into(),
                occurred_at: row.occurred_at,
                payload: row.payload,
                trace: row.traceparent.as_deref().and_then(TraceContext::parse),
            },
        })
    }
}

/// Each order's oldest unpublished row, if it is not parked and is due, locked, skipping
/// rows another relay holds. A parked row is its order's oldest unpublished row until it is
/// requeued and published, so it holds back every later row of its order: consumers never
/// see an order's events out of order.
///
/// The outer `published_at IS NULL AND parked_at IS NULL` is not redundant: the subquery sees
/// the statement's snapshot, so a row another relay publishes and commits between that
/// snapshot and our lock still looks like a head there. PostgreSQL rechecks only the outer
/// conditions on the row's newest version once it is locked, and they drop it.
const CLAIM: &str = "
    SELECT seq, event_id, event_type, order_id, occurred_at, payload, traceparent, attempts, refusals
    FROM outbox
    WHERE seq IN (
        SELECT min(seq) FROM outbox
        WHERE published_at IS NULL
        GROUP BY order_id
    )
    AND published_at IS NULL AND parked_at IS NULL
    AND next_attempt_at <= $1
    ORDER BY seq
    LIMIT $2
    FOR UPDATE SKIP LOCKED";

#[async_trait]
impl OutboxBatch for PgUnitOfWork {
    async fn claim(
        &mut self,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<PendingEvent>, StoreError> {
        let rows: Vec<Row> = diesel::sql_query(CLAIM)
            .bind::<Timestamptz, _>(now)
            .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(self.conn()?)
            .await
            .map_err(store_error)?;
        rows.into_iter().map(PendingEvent::try_from).collect()
    }

    async fn mark_published(
        &mut self,
        seqs: Vec<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        diesel::update(outbox::table.filter(outbox::seq.eq_any(seqs)))
            .set(outbox::published_at.eq(now))
            .execute(self.conn()?)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn mark_failed(
        &mut self,
        seq: i64,
        failure: PublishFailure,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let PublishFailure {
            error,
            refused,
            retry_at,
        } = failure;
        let parked_at = retry_at.is_none().then_some(now);
        diesel::update(outbox::table.find(seq))
            .set((
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::refusals.eq(outbox::refusals + i32::from(refused)),
                outbox::last_error.eq(error),
                outbox::next_attempt_at.eq(retry_at.unwrap_or(now)),
                outbox::parked_at.eq(parked_at),
            ))
            .execute(self.conn()?)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        order_ports::UnitOfWork::commit(self).await
    }
}

#[derive(QueryableByName)]
struct Stats {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = BigInt)]
    parked: i64,
    #[diesel(sql_type = BigInt)]
    held_back: i64,
    #[diesel(sql_type = Nullable<Double>)]
    lag_seconds: Option<f64>,
}

#[async_trait]
impl Outbox for PgStore {
    async fn begin_batch(&self) -> Result<Box<dyn OutboxBatch>, StoreError> {
        let connection = self.pool().get().await.map_err(pool_error)?;
        Ok(Box::new(PgUnitOfWork::open(connection).await?))
    }

    async fn stats(&self, now: DateTime<Utc>) -> Result<OutboxStats, StoreError> {
        let mut conn = self.pool().get().await.map_err(pool_error)?;
        let stats: Stats = diesel::sql_query(
            "SELECT
                count(*) FILTER (WHERE published_at IS NULL AND parked_at IS NULL) AS pending,
                count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
                count(*) FILTER (WHERE parked_at IS NULL AND order_id IN (
                    SELECT order_id FROM outbox WHERE parked_at IS NOT NULL AND published_at IS NULL
                )) AS held_back,
                extract(epoch FROM $1 - min(occurred_at) FILTER (
                    WHERE published_at IS NULL AND parked_at IS NULL))::float8 AS lag_seconds
             FROM outbox
             WHERE published_at IS NULL",
        )
        .bind::<Timestamptz, _>(now)
        .get_result(&mut conn)
        .await
        .map_err(store_error)?;
        Ok(OutboxStats {
            pending: stats.pending as u64,
            parked: stats.parked as u64,
            held_back: stats.held_back as u64,
            lag_seconds: stats.lag_seconds.unwrap_or(0.0).max(0.0),
        })
    }
}

/// A parked event, as `order-api outbox parked` lists it.
#[derive(Clone, Debug, PartialEq, QueryableByName)]
pub struct ParkedEvent {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub event_type: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub order_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub parked_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub refusals: i32,
    /// What the bus said the last time it refused the event.
    #[diesel(sql_type = Nullable<diesel::sql_types::Text>)]
    pub last_error: Option<String>,
    /// The order's later events, waiting behind this one.
    #[diesel(sql_type = BigInt)]
    pub held_back: i64,
}

/// The outbox as an operator handles it (`order-api outbox …`), instead of SQL.
impl PgStore {
    /// Every parked event, oldest first, with why and how many events wait behind it.
    pub async fn parked_events(&self) -> Result<Vec<ParkedEvent>, StoreError> {
        let mut conn = self.pool().get().await.map_err(pool_error)?;
        diesel::sql_query(
            "SELECT p.event_id, p.event_type, p.order_id, p.occurred_at, p.parked_at,
                    p.refusals, p.last_error,
                    (SELECT count(*) FROM outbox later
                     WHERE later.order_id = p.order_id AND later.seq > p.seq
                       AND later.published_at IS NULL) AS held_back
             FROM outbox p
             WHERE p.parked_at IS NOT NULL AND p.published_at IS NULL
             ORDER BY p.seq",
        )
        .load(&mut conn)
        .await
        .map_err(store_error)
    }

    /// Puts parked events back in line — those of `order`, or all with `None` — due at
    /// `now` with their refusals forgotten; the relay then publishes each order's events
    /// in their order. The number of events requeued.
    pub async fn requeue_parked(
        &self,
        order: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut conn = self.pool().get().await.map_err(pool_error)?;
        let parked = outbox::table
            .filter(outbox::parked_at.is_not_null())
            .filter(outbox::published_at.is_null())
            .into_boxed();
        let parked = match order {
            Some(order) => parked.filter(outbox::order_id.eq(order)),
            None => parked,
        };
        let seqs: Vec<i64> = parked
            .select(outbox::seq)
            .load(&mut conn)
            .await
            .map_err(store_error)?;
        diesel::update(outbox::table.filter(outbox::seq.eq_any(seqs)))
            .set((
                outbox::parked_at.eq(None::<DateTime<Utc>>),
                outbox::refusals.eq(0),
                outbox::next_attempt_at.eq(now),
            ))
            .execute(&mut conn)
            .await
            .map_err(store_error)
    }
}
