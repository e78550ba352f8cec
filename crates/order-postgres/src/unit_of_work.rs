//! One database transaction, as the use cases' unit of work.
//!
//! A change costs at most four round trips: BEGIN; the lock, which reads the order and
//! its dispute in one pipelined exchange; the writes, all sent together with the outbox
//! rows (only the columns that changed); COMMIT. To get there, the unit keeps what it
//! holds: the orders it locked, claimed or inserted, as stored and as its writes will
//! leave them, and the disputes it locked with them. A write to a row it holds is sent
//! with the unit's next statement that needs it, at the latest at commit, and its errors
//! come from that call. Rows it does not hold are written at once.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use futures_util::future::BoxFuture;
use order_domain::dispute::DisputeStatus;
use order_domain::order::OrderSource;
use order_domain::{Dispute, DisputeId, ListingId, Order, OrderId, OrderStatus};
use order_ports::{OrderDeadline, RecordedEvent, StoreError, UnitOfWork};
use uuid::Uuid;

use crate::error::store_error;
use crate::fragment::Cached;
use crate::rows::{DisputeRow, OrderChanges, OrderRow, SummaryRow};
use crate::schema::{disputes, orders, outbox};
use crate::store::{with_disputes, with_summary};

type Connection = Object<AsyncPgConnection>;

/// An order this unit of work holds, as the database has it and as its writes will leave
/// it.
struct Held {
    /// The row as the database has it; `None` for an order inserted here and not sent yet.
    stored: Option<(OrderRow, i64)>,
    row: OrderRow,
    /// The last number of the order's event sequence, counting the events reserved here.
    sequence: i64,
}

impl Held {
    fn stored(row: OrderRow, sequence: i64) -> Held {
        Held {
            stored: Some((row.clone(), sequence)),
            row,
            sequence,
        }
    }
}

/// What a held order needs sent.
enum OrderWrite {
    Insert(OrderRow, i64),
    Update {
        id: Uuid,
        expected: String,
        changes: OrderChanges,
    },
}

/// A write waiting to be sent with the unit's next statement.
enum Write {
    InsertDispute(DisputeRow),
    UpdateDispute(DisputeRow),
    Outbox(Vec<RecordedEvent>),
}

/// A transaction on one pooled connection. Dropped without [`UnitOfWork::commit`], it is
/// rolled back in the background before the connection returns to the pool.
pub struct PgUnitOfWork {
    /// `None` once committed.
    connection: Option<Connection>,
    held: HashMap<Uuid, Held>,
    /// Disputes locked with their orders, by dispute id, as stored.
    disputes: HashMap<Uuid, DisputeRow>,
    /// Writes to held rows not sent yet, in the order they were made.
    pending: Vec<Write>,
}

impl PgUnitOfWork {
    /// Begins a transaction on `connection`; on failure, hands the connection back with
    /// the error, so that the store can tell a dead connection from a refusal.
    pub(crate) async fn begin(
        mut connection: Connection,
    ) -> Result<PgUnitOfWork, (Connection, DieselError)> {
        match AnsiTransactionManager::begin_transaction(&mut *connection).await {
            Ok(()) => Ok(PgUnitOfWork {
                connection: Some(connection),
                held: HashMap::new(),
                disputes: HashMap::new(),
                pending: Vec::new(),
            }),
            Err(error) => Err((connection, error)),
        }
    }

    /// [`PgUnitOfWork::begin`] for callers that retry nothing.
    pub(crate) async fn open(connection: Connection) -> Result<PgUnitOfWork, StoreError> {
        PgUnitOfWork::begin(connection)
            .await
            .map_err(|(_, error)| store_error(error))
    }

    pub(crate) fn conn(&mut self) -> Result<&mut AsyncPgConnection, StoreError> {
        self.connection.as_deref_mut().ok_or_else(committed)
    }

    /// The connection, for sending several statements at once (diesel-async pipelines
    /// the futures of a shared connection that are polled together).
    fn shared(&self) -> Result<&AsyncPgConnection, StoreError> {
        self.connection.as_deref().ok_or_else(committed)
    }

    fn hold(&mut self, row: &OrderRow, sequence: i64) {
        self.held
            .insert(row.id, Held::stored(row.clone(), sequence));
    }

    /// Sends every write waiting, all at once: the orders (new ones, or the columns that
    /// changed), then the disputes, then the outbox rows. Each order update is conditional
    /// on the status it was stored with; none matching means another writer got there
    /// first.
    async fn flush(&mut self) -> Result<(), StoreError> {
        let orders: Vec<OrderWrite> = self
            .held
            .values()
            .filter_map(|held| match &held.stored {
                None => Some(OrderWrite::Insert(held.row.clone(), held.sequence)),
                Some((stored, stored_sequence)) => {
                    let mut changes = OrderChanges::between(stored, &held.row);
                    if held.sequence != *stored_sequence {
                        changes.event_sequence = Some(held.sequence);
                    }
                    (!changes.is_empty()).then(|| OrderWrite::Update {
                        id: stored.id,
                        expected: stored.status.clone(),
                        changes,
                    })
                }
            })
            .collect();
        if orders.is_empty() && self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let mut conn = self.shared()?;
        let mut sent: Vec<BoxFuture<'_, Result<(), StoreError>>> = Vec::new();
        for write in &orders {
            match write {
                OrderWrite::Insert(row, sequence) => {
                    let insert = Cached(
                        diesel::insert_into(orders::table)
                            .values((row, orders::event_sequence.eq(*sequence))),
                    )
                    .execute(&mut conn);
                    sent.push(Box::pin(async move {
                        insert.await.map(drop).map_err(store_error)
                    }));
                }
                OrderWrite::Update {
                    id,
                    expected,
                    changes,
                } => {
                    let update = Cached(
                        diesel::update(
                            orders::table
                                .find(*id)
                                .filter(orders::status.eq(expected.as_str())),
                        )
                        .set(changes),
                    )
                    .execute(&mut conn);
                    sent.push(Box::pin(async move { one_row(update.await) }));
                }
            }
        }
        for write in &pending {
            match write {
                Write::InsertDispute(row) => {
                    let insert =
                        Cached(diesel::insert_into(disputes::table).values(row)).execute(&mut conn);
                    sent.push(Box::pin(async move {
                        insert.await.map(drop).map_err(store_error)
                    }));
                }
                Write::UpdateDispute(row) => {
                    let update = Cached(diesel::update(disputes::table.find(row.id)).set(row))
                        .execute(&mut conn);
                    sent.push(Box::pin(async move { one_row(update.await) }));
                }
                Write::Outbox(events) => {
                    let insert =
                        Cached(diesel::insert_into(outbox::table).values(outbox_rows(events)))
                            .execute(&mut conn);
                    sent.push(Box::pin(async move {
                        insert.await.map(drop).map_err(store_error)
                    }));
                }
            }
        }
        crate::pipeline::all(sent).await?;
        for held in self.held.values_mut() {
            held.stored = Some((held.row.clone(), held.sequence));
        }
        for write in pending {
            if let Write::InsertDispute(row) | Write::UpdateDispute(row) = write {
                self.disputes.insert(row.id, row);
            }
        }
        Ok(())
    }

    /// Orders locked on their own, then given their disputes' summaries in one statement.
    async fn hold_all(&mut self, rows: Vec<(OrderRow, i64)>) -> Result<Vec<Order>, StoreError> {
        for (row, sequence) in &rows {
            self.hold(row, *sequence);
        }
        let rows = rows.into_iter().map(|(row, _)| row).collect();
        with_disputes(self.conn()?, rows).await
    }
}

fn committed() -> StoreError {
    StoreError::Internal("the unit of work has already committed".into())
}

/// An update of one row by its key: none means the row was not as expected.
fn one_row(updated: Result<usize, DieselError>) -> Result<(), StoreError> {
    match updated.map_err(store_error)? {
        1 => Ok(()),
        _ => Err(StoreError::Stale),
    }
}

/// The outbox rows of `events`, each with its history line.
#[allow(clippy::type_complexity)]
fn outbox_rows(
    events: &[RecordedEvent],
) -> Vec<(
    (
        diesel::dsl::Eq<outbox::event_id, Uuid>,
        diesel::dsl::Eq<outbox::event_type, &'static str>,
        diesel::dsl::Eq<outbox::order_id, Uuid>,
        diesel::dsl::Eq<outbox::occurred_at, DateTime<Utc>>,
        diesel::dsl::Eq<outbox::next_attempt_at, DateTime<Utc>>,
        diesel::dsl::Eq<outbox::payload, &str>,
    ),
    (
        diesel::dsl::Eq<outbox::sequence, i64>,
        diesel::dsl::Eq<outbox::actor_type, &'static str>,
        diesel::dsl::Eq<outbox::actor_id, Option<Uuid>>,
        diesel::dsl::Eq<outbox::from_status, &'static str>,
        diesel::dsl::Eq<outbox::to_status, &'static str>,
        diesel::dsl::Eq<outbox::details, &serde_json::Value>,
    ),
)> {
    events
        .iter()
        .map(|RecordedEvent { message, story }| {
            (
                (
                    outbox::event_id.eq(*message.event_id.as_uuid()),
                    outbox::event_type.eq(message.event_type.as_str()),
                    outbox::order_id.eq(*message.order_id.as_uuid()),
                    outbox::occurred_at.eq(message.occurred_at),
                    // Due from the service's clock, as the relay's claim compares it with,
                    // never the database's `now()`: a database clock ahead of the
                    // service's would hold every new event back by the difference.
                    outbox::next_attempt_at.eq(message.occurred_at),
                    outbox::payload.eq(message.payload.as_str()),
                ),
                (
                    outbox::sequence.eq(i64::try_from(story.sequence).unwrap_or(i64::MAX)),
                    outbox::actor_type.eq(story.actor.kind()),
                    outbox::actor_id.eq(story.actor.id().map(|id| *id.as_uuid())),
                    outbox::from_status.eq(story.from_status.as_str()),
                    outbox::to_status.eq(story.to_status.as_str()),
                    outbox::details.eq(&story.details),
                ),
            )
        })
        .collect()
}

impl Drop for PgUnitOfWork {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else {
            return;
        };
        // Rolling back needs a round trip, which Drop cannot await; without a runtime the
        // pool sees the open transaction as a broken connection and discards it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) =
                    AnsiTransactionManager::rollback_transaction(&mut *connection).await
                {
                    tracing::warn!(%error, "rollback failed; dropping the connection");
                    let _ = Object::take(connection);
                }
            });
        }
    }
}

/// The order's row (with its event sequence) and its dispute, both locked, read in one
/// pipelined exchange. The dispute's lock follows the order's, as everywhere (order first,
/// then dispute), so it adds no way to deadlock.
async fn lock_with_dispute(
    mut conn: &AsyncPgConnection,
    id: Uuid,
) -> Result<(Option<(OrderRow, i64)>, Option<DisputeRow>), DieselError> {
    let order = orders::table
        .find(id)
        .for_update()
        .select((OrderRow::as_select(), orders::event_sequence))
        .first::<(OrderRow, i64)>(&mut conn);
    let dispute = disputes::table
        .filter(disputes::order_id.eq(id))
        .for_update()
        .select(DisputeRow::as_select())
        .first::<DisputeRow>(&mut conn);
    let (order, dispute) = crate::pipeline::both(async { order.await.optional() }, async {
        dispute.await.optional()
    })
    .await?;
    Ok((order, dispute))
}

/// A dispute's order and the dispute, both locked, in that order, in one pipelined
/// exchange: the order found through the dispute by a subquery, since `FOR UPDATE` of a
/// join would lock in no stated order.
async fn lock_by_dispute(
    mut conn: &AsyncPgConnection,
    id: Uuid,
) -> Result<(Option<(OrderRow, i64)>, Option<DisputeRow>), DieselError> {
    let order_of_dispute = disputes::table
        .filter(disputes::id.eq(id))
        .select(disputes::order_id);
    let order = orders::table
        .filter(orders::id.eq_any(order_of_dispute))
        .for_update()
        .select((OrderRow::as_select(), orders::event_sequence))
        .first::<(OrderRow, i64)>(&mut conn);
    let dispute = disputes::table
        .find(id)
        .for_update()
        .select(DisputeRow::as_select())
        .first::<DisputeRow>(&mut conn);
    crate::pipeline::both(async { order.await.optional() }, async {
        dispute.await.optional()
    })
    .await
}

fn summary_of(dispute: &DisputeRow) -> SummaryRow {
    (
        dispute.id,
        dispute.order_id,
        dispute.status.clone(),
        dispute.resolution.clone(),
    )
}

#[async_trait]
impl UnitOfWork for PgUnitOfWork {
    async fn lock_order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        self.flush().await?;
        let (order, dispute) = lock_with_dispute(self.shared()?, *id.as_uuid())
            .await
            .map_err(store_error)?;
        let Some((row, sequence)) = order else {
            return Ok(None);
        };
        self.hold(&row, sequence);
        let summary = dispute.as_ref().map(summary_of);
        if let Some(dispute) = dispute {
            self.disputes.insert(dispute.id, dispute);
        }
        with_summary((row, summary)).map(Some)
    }

    async fn lock_live_order_for_listing(
        &mut self,
        listing_id: ListingId,
    ) -> Result<Option<Order>, StoreError> {
        self.flush().await?;
        let row = orders::table
            .filter(orders::listing_id.eq(*listing_id.as_uuid()))
            .filter(orders::status.ne(OrderStatus::Cancelled.as_str()))
            .for_update()
            .select((OrderRow::as_select(), orders::event_sequence))
            .first(self.conn()?)
            .await
            .optional()
            .map_err(store_error)?;
        Ok(self.hold_all(row.into_iter().collect()).await?.pop())
    }

    async fn claim_due_order(
        &mut self,
        now: DateTime<Utc>,
        skip: Vec<OrderId>,
    ) -> Result<Option<Order>, StoreError> {
        self.flush().await?;
        let skip: Vec<Uuid> = skip.iter().map(|id| *id.as_uuid()).collect();
        let awaiting = [
            OrderStatus::Shipped.as_str(),
            OrderStatus::Delivered.as_str(),
        ];
        let row = orders::table
            .filter(orders::status.eq_any(awaiting))
            .filter(orders::auto_complete_at.le(now))
            .filter(orders::id.ne_all(skip))
            .filter(orders::escrow_intent.is_null())
            .order(orders::auto_complete_at.asc())
            .limit(1)
            .for_update()
            .skip_locked()
            .select((OrderRow::as_select(), orders::event_sequence))
            .first(self.conn()?)
            .await
            .optional()
            .map_err(store_error)?;
        Ok(self.hold_all(row.into_iter().collect()).await?.pop())
    }

    async fn claim_overdue_orders(
        &mut self,
        deadline: OrderDeadline,
        now: DateTime<Utc>,
        limit: usize,
        skip: Vec<OrderId>,
    ) -> Result<Vec<Order>, StoreError> {
        self.flush().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let skip: Vec<Uuid> = skip.iter().map(|id| *id.as_uuid()).collect();
        let conn = self.conn()?;
        // Each filter matches the partial index made for its sweep. (A locking query cannot
        // be boxed, hence the two whole statements.)
        let rows: Vec<(OrderRow, i64)> = match deadline {
            OrderDeadline::Payment => {
                orders::table
                    .filter(orders::status.eq(OrderStatus::PendingPayment.as_str()))
                    .filter(orders::source.eq(OrderSource::Auction.as_str()))
                    .filter(orders::pay_by.le(now))
                    .filter(orders::escrow_intent.is_null())
                    .filter(orders::id.ne_all(skip))
                    .order(orders::pay_by.asc())
                    .limit(limit)
                    .for_update()
                    .skip_locked()
                    .select((OrderRow::as_select(), orders::event_sequence))
                    .load(conn)
                    .await
            }
            OrderDeadline::Shipping => {
                orders::table
                    .filter(orders::status.eq(OrderStatus::Paid.as_str()))
                    .filter(orders::ship_overdue_at.is_null())
                    .filter(orders::ship_by.le(now))
                    .filter(orders::escrow_intent.is_null())
                    .filter(orders::id.ne_all(skip))
                    .order(orders::ship_by.asc())
                    .limit(limit)
                    .for_update()
                    .skip_locked()
                    .select((OrderRow::as_select(), orders::event_sequence))
                    .load(conn)
                    .await
            }
        }
        .map_err(store_error)?;
        self.hold_all(rows).await
    }

    async fn claim_unanswered_disputes(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
        skip: Vec<DisputeId>,
    ) -> Result<Vec<(Order, Dispute)>, StoreError> {
        self.flush().await?;
        let skip: Vec<Uuid> = skip.iter().map(|id| *id.as_uuid()).collect();
        let open = [
            DisputeStatus::Open.as_str(),
            DisputeStatus::Evidence.as_str(),
        ];
        let rows: Vec<(DisputeRow, OrderRow, i64)> = disputes::table
            .inner_join(orders::table)
            .filter(disputes::status.eq_any(open))
            .filter(disputes::respond_by.le(now))
            .filter(orders::escrow_intent.is_null())
            .filter(disputes::id.ne_all(skip))
            .order(disputes::respond_by.asc())
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .for_update()
            .skip_locked()
            .select((
                DisputeRow::as_select(),
                OrderRow::as_select(),
                orders::event_sequence,
            ))
            .load(self.conn()?)
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(dispute_row, order_row, sequence)| {
                self.hold(&order_row, sequence);
                self.disputes.insert(dispute_row.id, dispute_row.clone());
                let dispute = Dispute::try_from(dispute_row)?;
                let order = order_row.into_order(Some(dispute.summary()))?;
                Ok((order, dispute))
            })
            .collect()
    }

    async fn insert_order(&mut self, order: &Order) -> Result<(), StoreError> {
        let row = OrderRow::from(order);
        self.held.insert(
            row.id,
            Held {
                stored: None,
                row,
                sequence: 0,
            },
        );
        Ok(())
    }

    async fn update_order(
        &mut self,
        order: &Order,
        expected: OrderStatus,
    ) -> Result<(), StoreError> {
        let row = OrderRow::from(order);
        if let Some(held) = self.held.get_mut(&row.id) {
            if held.row.status != expected.as_str() {
                return Err(StoreError::Stale);
            }
            held.row = row;
            return Ok(());
        }
        self.flush().await?;
        let updated = diesel::update(
            orders::table
                .find(row.id)
                .filter(orders::status.eq(expected.as_str())),
        )
        .set(&row)
        .execute(self.conn()?)
        .await;
        one_row(updated)
    }

    async fn lock_dispute(&mut self, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        let written_here = self.pending.iter().rev().find_map(|write| match write {
            Write::InsertDispute(row) | Write::UpdateDispute(row) if row.id == *id.as_uuid() => {
                Some(row)
            }
            _ => None,
        });
        if let Some(row) = written_here.or_else(|| self.disputes.get(id.as_uuid())) {
            return Dispute::try_from(row.clone()).map(Some);
        }
        self.flush().await?;
        let row = disputes::table
            .find(*id.as_uuid())
            .for_update()
            .select(DisputeRow::as_select())
            .first(self.conn()?)
            .await
            .optional()
            .map_err(store_error)?;
        if let Some(row) = &row {
            self.disputes.insert(row.id, row.clone());
        }
        row.map(Dispute::try_from).transpose()
    }

    async fn lock_dispute_with_order(
        &mut self,
        id: DisputeId,
    ) -> Result<Option<(Order, Dispute)>, StoreError> {
        self.flush().await?;
        let (order, dispute) = lock_by_dispute(self.shared()?, *id.as_uuid())
            .await
            .map_err(store_error)?;
        let (Some((order_row, sequence)), Some(dispute_row)) = (order, dispute) else {
            return Ok(None);
        };
        self.hold(&order_row, sequence);
        self.disputes.insert(dispute_row.id, dispute_row.clone());
        let dispute = Dispute::try_from(dispute_row)?;
        let order = order_row.into_order(Some(dispute.summary()))?;
        Ok(Some((order, dispute)))
    }

    async fn insert_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError> {
        let row = DisputeRow::from(dispute);
        if self.held.contains_key(&row.order_id) {
            self.pending.push(Write::InsertDispute(row));
            return Ok(());
        }
        self.flush().await?;
        diesel::insert_into(disputes::table)
            .values(&row)
            .execute(self.conn()?)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn update_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError> {
        let row = DisputeRow::from(dispute);
        let inserted_here = self.pending.iter_mut().find_map(|write| match write {
            Write::InsertDispute(pending) if pending.id == row.id => Some(pending),
            _ => None,
        });
        if let Some(pending) = inserted_here {
            *pending = row;
            return Ok(());
        }
        if self.disputes.contains_key(&row.id) {
            self.pending.push(Write::UpdateDispute(row));
            return Ok(());
        }
        self.flush().await?;
        let updated = diesel::update(disputes::table.find(row.id))
            .set(&row)
            .execute(self.conn()?)
            .await;
        one_row(updated)
    }

    async fn reserve_sequences(&mut self, order: OrderId, count: u64) -> Result<u64, StoreError> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        if let Some(held) = self.held.get_mut(order.as_uuid()) {
            // The row is locked (or inserted) by this unit: nobody else moves its counter.
            let first = held.sequence + 1;
            held.sequence += count;
            return Ok(u64::try_from(first).unwrap_or_default());
        }
        self.flush().await?;
        let last: i64 = diesel::update(orders::table.find(*order.as_uuid()))
            .set(orders::event_sequence.eq(orders::event_sequence + count))
            .returning(orders::event_sequence)
            .get_result(self.conn()?)
            .await
            .map_err(store_error)?;
        Ok(u64::try_from(last - count + 1).unwrap_or_default())
    }

    async fn append_outbox(&mut self, events: Vec<RecordedEvent>) -> Result<(), StoreError> {
        self.pending.push(Write::Outbox(events));
        self.flush().await
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.flush().await?;
        let mut connection = self.connection.take().ok_or_else(committed)?;
        AnsiTransactionManager::commit_transaction(&mut *connection)
            .await
            .map_err(store_error)
    }
}
