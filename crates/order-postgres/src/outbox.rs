//! The outbox table, as the relay reads and updates it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Timestamptz};
use diesel_async::RunQueryDsl;
use order_ports::{Outbox, OutboxBatch, OutboxMessage, OutboxStats, PendingEvent, StoreError};
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
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
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
            message: OutboxMessage {
                event_id: row.event_id.into(),
                event_type,
                order_id: row.order_id.into(),
                occurred_at: row.occurred_at,
                payload: row.payload,
            },
        })
    }
}

/// Each order's oldest unpublished, unparked row that is due, locked, skipping rows another
/// relay holds. A parked row no longer holds back the rows after it.
///
/// The outer `published_at IS NULL AND parked_at IS NULL` is not redundant: the subquery sees
/// the statement's snapshot, so a row another relay publishes and commits between that
/// snapshot and our lock still looks like a head there. PostgreSQL rechecks only the outer
/// conditions on the row's newest version once it is locked, and they drop it.
const CLAIM: &str = "
    SELECT seq, event_id, event_type, order_id, occurred_at, payload, attempts
    FROM outbox
    WHERE seq IN (
        SELECT min(seq) FROM outbox
        WHERE published_at IS NULL AND parked_at IS NULL
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
        error: String,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let parked_at = retry_at.is_none().then_some(now);
        diesel::update(outbox::table.find(seq))
            .set((
                outbox::attempts.eq(outbox::attempts + 1),
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
    #[diesel(sql_type = Nullable<Double>)]
    lag_seconds: Option<f64>,
}

#[async_trait]
impl Outbox for PgStore {
    async fn begin_batch(&self) -> Result<Box<dyn OutboxBatch>, StoreError> {
        let connection = self.pool().get().await.map_err(pool_error)?;
        Ok(Box::new(PgUnitOfWork::begin(connection).await?))
    }

    async fn stats(&self, now: DateTime<Utc>) -> Result<OutboxStats, StoreError> {
        let mut conn = self.pool().get().await.map_err(pool_error)?;
        let stats: Stats = diesel::sql_query(
            "SELECT
                count(*) FILTER (WHERE published_at IS NULL AND parked_at IS NULL) AS pending,
                count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
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
            lag_seconds: stats.lag_seconds.unwrap_or(0.0).max(0.0),
        })
    }
}
