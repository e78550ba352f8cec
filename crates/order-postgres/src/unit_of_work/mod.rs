//! One database transaction, as the use cases' unit of work.
//!
//! A change costs at most four round trips: BEGIN; the lock, which reads the order and
//! its dispute in one pipelined exchange; the writes, all sent together with the outbox
//! rows (only the columns that changed); COMMIT. To get there, the unit keeps what it
//! holds: the orders it locked, claimed or inserted, as stored and as its writes will
//! leave them, and the disputes it locked with them. A write to a row it holds is sent
//! with the unit's next statement that needs it, at the latest at commit, and its errors
//! come from that call. Rows it does not hold are written at once.

pub(crate) mod claims;
mod documents;
mod erasure;
mod locks;
mod outbox_rows;
mod parcels;
mod rollback;
mod write_behind;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use order_domain::order::{CarrierEventId, ParcelKey};
use order_domain::{Dispute, DisputeId, ListingId, Order, OrderId, OrderStatus, UserId};
use order_ports::{RecordedEvent, StoreError, StoredDocument, UnitOfWork};
use uuid::Uuid;

use crate::error::store_error;
use crate::rows::{DisputeRow, OrderRow};
use crate::schema::{disputes, orders};
use crate::store::with_summary;

use self::locks::{lock_by_dispute, lock_with_dispute, summary_of};
use self::write_behind::{one_row, Held, Write};

type Connection = Object<AsyncPgConnection>;

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
    pub(super) fn shared(&self) -> Result<&AsyncPgConnection, StoreError> {
        self.connection.as_deref().ok_or_else(committed)
    }
}

fn committed() -> StoreError {
    StoreError::Internal("the unit of work has already committed".into())
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

    async fn lock_orders_by_parcel(
        &mut self,
        parcel: &ParcelKey,
    ) -> Result<Vec<Order>, StoreError> {
        self.lock_parcel(parcel).await
    }

    async fn record_carrier_event(
        &mut self,
        event_id: &CarrierEventId,
        orders: Vec<OrderId>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.record_carrier(event_id, orders, at).await
    }

    async fn carrier_event(
        &mut self,
        event_id: &CarrierEventId,
    ) -> Result<Option<Vec<OrderId>>, StoreError> {
        self.recorded_carrier(event_id).await
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

    async fn order_documents(&mut self, order: OrderId) -> Result<Vec<StoredDocument>, StoreError> {
        self.documents_of(order).await
    }

    async fn replace_document(&mut self, document: &StoredDocument) -> Result<(), StoreError> {
        self.replace(document);
        Ok(())
    }

    async fn request_erasure(
        &mut self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.mark_for_erasure(user, now).await
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.flush().await?;
        let mut connection = self.connection.take().ok_or_else(committed)?;
        AnsiTransactionManager::commit_transaction(&mut *connection)
            .await
            .map_err(store_error)
    }
}
