//! The order's story as the outbox keeps it: each order's history, and the replay feed of
//! every event in one total order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use order_domain::{Actor, EventType, OrderId, OrderStatus};
use order_ports::store::{Page, Total};
use order_ports::{FeedEvent, HistoryEntry, StoreError, StoryLine};
use uuid::Uuid;

use crate::error::{corrupt, pool_error, store_error};
use crate::store::{read, PgStore};

/// An arbitrary key, the same in every replica, that serializes the feed's sequencer:
/// "feedpos" in ASCII.
const FEED_SEQUENCER_LOCK: i64 = 0x0066_6565_6470_6f73;

#[derive(QueryableByName)]
struct HistoryRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    event_id: Uuid,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    sequence: i64,
    #[diesel(sql_type = Text)]
    actor_type: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    actor_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    from_status: String,
    #[diesel(sql_type = Text)]
    to_status: String,
    #[diesel(sql_type = Jsonb)]
    details: serde_json::Value,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

fn parsed<T, E: std::fmt::Display>(what: &str, value: Result<T, E>) -> Result<T, StoreError> {
    value.map_err(|e| corrupt(what, e))
}

impl TryFrom<HistoryRow> for HistoryEntry {
    type Error = StoreError;

    fn try_from(row: HistoryRow) -> Result<HistoryEntry, StoreError> {
        let user = || {
            row.actor_id
                .map(Into::into)
                .ok_or_else(|| corrupt("actor", "a user actor without an id"))
        };
        let actor = match row.actor_type.as_str() {
            "buyer" => Actor::Buyer(user()?),
            "seller" => Actor::Seller(user()?),
            "admin" => Actor::Admin(user()?),
            "service" => Actor::Service,
            "carrier" => Actor::Carrier,
            _ => Actor::System,
        };
        Ok(HistoryEntry {
            event_id: row.event_id.into(),
            event_type: parsed("event type", row.event_type.parse::<EventType>())?,
            occurred_at: row.occurred_at,
            story: StoryLine {
                sequence: u64::try_from(row.sequence).unwrap_or_default(),
                actor,
                from_status: parsed("order status", row.from_status.parse::<OrderStatus>())?,
                to_status: parsed("order status", row.to_status.parse::<OrderStatus>())?,
                details: row.details,
            },
        })
    }
}

#[derive(QueryableByName)]
struct FeedRow {
    #[diesel(sql_type = BigInt)]
    position: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    event_id: Uuid,
    #[diesel(sql_type = Text)]
    event_type: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    order_id: Uuid,
    #[diesel(sql_type = BigInt)]
    sequence: i64,
    #[diesel(sql_type = Timestamptz)]
    occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    payload: String,
}

impl PgStore {
    pub(crate) async fn read_history(
        &self,
        order: OrderId,
        offset: u64,
        limit: u32,
    ) -> Result<Page<HistoryEntry>, StoreError> {
        let (rows, total) =
            read!(lists self, |conn| history_rows(conn, order, offset, limit).await)?;
        let items: Vec<HistoryEntry> = rows
            .into_iter()
            .map(HistoryEntry::try_from)
            .collect::<Result<_, _>>()?;
        let has_more = offset + (items.len() as u64) < total;
        Ok(Page {
            items,
            total: Some(Total::Exact(total)),
            has_more,
        })
    }

    pub(crate) async fn sequence_feed(&self, limit: usize) -> Result<usize, StoreError> {
        let mut conn = self.pool().get().await.map_err(pool_error)?;
        AnsiTransactionManager::begin_transaction(&mut *conn)
            .await
            .map_err(store_error)?;
        let positioned = async {
            diesel::sql_query(format!(
                "SELECT pg_advisory_xact_lock({FEED_SEQUENCER_LOCK})"
            ))
            .execute(&mut *conn)
            .await?;
            // A new statement, so a new snapshot: it sees every event committed before the
            // lock was granted, the previous step's positions included.
            diesel::sql_query(
                "WITH todo AS (
                     SELECT seq, row_number() OVER (ORDER BY seq) AS n
                     FROM (SELECT seq FROM outbox WHERE position IS NULL ORDER BY seq LIMIT $1) t
                 ),
                 base AS (SELECT coalesce(max(position), 0) AS top FROM outbox)
                 UPDATE outbox SET position = base.top + todo.n
                 FROM todo, base WHERE outbox.seq = todo.seq",
            )
            .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
            .execute(&mut *conn)
            .await
        }
        .await;
        match positioned {
            Ok(count) => {
                AnsiTransactionManager::commit_transaction(&mut *conn)
                    .await
                    .map_err(store_error)?;
                Ok(count)
            }
            Err(error) => {
                let _ = AnsiTransactionManager::rollback_transaction(&mut *conn).await;
                Err(store_error(error))
            }
        }
    }

    pub(crate) async fn read_feed(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<FeedEvent>, StoreError> {
        let rows = read!(self, |conn| feed_rows(conn, after, limit).await)?;
        rows.into_iter()
            .map(|row| {
                Ok(FeedEvent {
                    position: u64::try_from(row.position).unwrap_or_default(),
                    event_id: row.event_id.into(),
                    event_type: parsed("event type", row.event_type.parse::<EventType>())?,
                    order_id: row.order_id.into(),
                    sequence: u64::try_from(row.sequence).unwrap_or_default(),
                    occurred_at: row.occurred_at,
                    payload: row.payload,
                })
            })
            .collect()
    }
}

/// A page of an order's events, and how many it has in all.
async fn history_rows(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    offset: u64,
    limit: u32,
) -> Result<(Vec<HistoryRow>, u64), diesel::result::Error> {
    // Events written before the story was kept read as the system's, their statuses from
    // the order they carried.
    let rows: Vec<HistoryRow> = diesel::sql_query(
        "SELECT event_id, event_type, occurred_at, sequence,
                coalesce(actor_type, 'system') AS actor_type, actor_id,
                coalesce(from_status, payload::jsonb #>> '{order,status}') AS from_status,
                coalesce(to_status, payload::jsonb #>> '{order,status}') AS to_status,
                coalesce(details, '{}') AS details,
                count(*) OVER () AS total
         FROM outbox WHERE order_id = $1
         ORDER BY sequence OFFSET $2 LIMIT $3",
    )
    .bind::<diesel::sql_types::Uuid, _>(*order.as_uuid())
    .bind::<BigInt, _>(i64::try_from(offset).unwrap_or(i64::MAX))
    .bind::<BigInt, _>(i64::from(limit))
    .load(&mut *conn)
    .await?;
    let total = match <[HistoryRow]>::first(&rows) {
        Some(row) => row.total,
        // Past the end: count what there is, so the page can say so.
        None => {
            use crate::schema::outbox;
            outbox::table
                .filter(outbox::order_id.eq(*order.as_uuid()))
                .count()
                .get_result(conn)
                .await?
        }
    };
    Ok((rows, u64::try_from(total).unwrap_or_default()))
}

/// The events after feed position `after`, at most `limit`.
async fn feed_rows(
    conn: &mut AsyncPgConnection,
    after: u64,
    limit: u32,
) -> Result<Vec<FeedRow>, diesel::result::Error> {
    diesel::sql_query(
        "SELECT position, event_id, event_type, order_id, coalesce(sequence, 0) AS sequence,
                occurred_at, payload
         FROM outbox WHERE position > $1 ORDER BY position LIMIT $2",
    )
    .bind::<BigInt, _>(i64::try_from(after).unwrap_or(i64::MAX))
    .bind::<BigInt, _>(i64::from(limit))
    .load(conn)
    .await
}
