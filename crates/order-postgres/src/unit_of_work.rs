//! One database transaction, as the use cases' unit of work.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use order_domain::dispute::DisputeStatus;
use order_domain::order::OrderSource;
use order_domain::{Dispute, DisputeId, ListingId, Order, OrderId, OrderStatus};
use order_ports::{OrderDeadline, RecordedEvent, StoreError, UnitOfWork};
use uuid::Uuid;

use crate::error::store_error;
use crate::rows::{DisputeRow, OrderRow};
use crate::schema::{disputes, orders, outbox};
use crate::store::with_dispute;

type Connection = Object<AsyncPgConnection>;

/// A transaction on one pooled connection. Dropped without [`UnitOfWork::commit`], it is
/// rolled back in the background before the connection returns to the pool.
pub struct PgUnitOfWork {
    /// `None` once committed.
    connection: Option<Connection>,
}

impl PgUnitOfWork {
    pub(crate) async fn begin(mut connection: Connection) -> Result<PgUnitOfWork, StoreError> {
        AnsiTransactionManager::begin_transaction(&mut *connection)
            .await
            .map_err(store_error)?;
        Ok(PgUnitOfWork {
            connection: Some(connection),
        })
    }

    pub(crate) fn conn(&mut self) -> Result<&mut AsyncPgConnection, StoreError> {
        self.connection
            .as_deref_mut()
            .ok_or_else(|| StoreError::Internal("the unit of work has already committed".into()))
    }

    async fn one_order(&mut self, row: Option<OrderRow>) -> Result<Option<Order>, StoreError> {
        match row {
            Some(row) => with_dispute(self.conn()?, row).await.map(Some),
            None => Ok(None),
        }
    }
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

#[async_trait]
impl UnitOfWork for PgUnitOfWork {
    async fn lock_order(&mut self, id: OrderId) -> Result<Option<Order>, StoreError> {
        let row = orders::table
            .find(*id.as_uuid())
            .for_update()
            .select(OrderRow::as_select())
            .first(self.conn()?)
            .await
            .optional()
            .map_err(store_error)?;
        self.one_order(row).await
    }

    async fn lock_live_order_for_listing(
        &mut self,
        listing_id: ListingId,
    ) -> Result<Option<Order>, StoreError> {
        let row = orders::table
            .filter(orders::listing_id.eq(*listing_id.as_uuid()))
            .filter(orders::status.ne(OrderStatus::Cancelled.as_str()))
            .for_update()
            .select(OrderRow::as_select())
            .first(self.conn()?)
            .await
            .optional()
            .map_err(store_error)?;
        self.one_order(row).await
    }

    async fn claim_due_order(
        &mut self,
        now: DateTime<Utc>,
        skip: Vec<OrderId>,
    ) -> Result<Option<Order>, StoreError> {
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
            .select(OrderRow::as_select())
            .first(self.conn()?)
            .await
            .optional()
            .map_err(store_error)?;
        self.one_order(row).await
    }

    async fn claim_overdue_orders(
        &mut self,
        deadline: OrderDeadline,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.conn()?;
        // Each filter matches the partial index made for its sweep. (A locking query cannot
        // be boxed, hence the two whole statements.)
        let rows: Vec<OrderRow> = match deadline {
            OrderDeadline::Payment => {
                orders::table
                    .filter(orders::status.eq(OrderStatus::PendingPayment.as_str()))
                    .filter(orders::source.eq(OrderSource::Auction.as_str()))
                    .filter(orders::pay_by.le(now))
                    .filter(orders::escrow_intent.is_null())
                    .order(orders::pay_by.asc())
                    .limit(limit)
                    .for_update()
                    .skip_locked()
                    .select(OrderRow::as_select())
                    .load(conn)
                    .await
            }
            OrderDeadline::Shipping => {
                orders::table
                    .filter(orders::status.eq(OrderStatus::Paid.as_str()))
                    .filter(orders::ship_overdue_at.is_null())
                    .filter(orders::ship_by.le(now))
                    .filter(orders::escrow_intent.is_null())
                    .order(orders::ship_by.asc())
                    .limit(limit)
                    .for_update()
                    .skip_locked()
                    .select(OrderRow::as_select())
                    .load(conn)
                    .await
            }
        }
        .map_err(store_error)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            claimed.push(with_dispute(self.conn()?, row).await?);
        }
        Ok(claimed)
    }

    async fn claim_unanswered_disputes(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(Order, Dispute)>, StoreError> {
        let open = [
            DisputeStatus::Open.as_str(),
            DisputeStatus::Evidence.as_str(),
        ];
        let rows: Vec<(DisputeRow, OrderRow)> = disputes::table
            .inner_join(orders::table)
            .filter(disputes::status.eq_any(open))
            .filter(disputes::respond_by.le(now))
            .filter(orders::escrow_intent.is_null())
            .order(disputes::respond_by.asc())
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .for_update()
            .skip_locked()
            .select((DisputeRow::as_select(), OrderRow::as_select()))
            .load(self.conn()?)
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(dispute, order)| {
                let dispute = Dispute::try_from(dispute)?;
                let order = order.into_order(Some(dispute.summary()))?;
                Ok((order, dispute))
            })
            .collect()
    }

    async fn insert_order(&mut self, order: &Order) -> Result<(), StoreError> {
        diesel::insert_into(orders::table)
            .values(OrderRow::from(order))
            .execute(self.conn()?)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn update_order(
        &mut self,
        order: &Order,
        expected: OrderStatus,
    ) -> Result<(), StoreError> {
        let updated = diesel::update(
            orders::table
                .find(*order.id.as_uuid())
                .filter(orders::status.eq(expected.as_str())),
        )
        .set(OrderRow::from(order))
        .execute(self.conn()?)
        .await
        .map_err(store_error)?;
        match updated {
            1 => Ok(()),
            _ => Err(StoreError::Stale),
        }
    }

    async fn lock_dispute(&mut self, id: DisputeId) -> Result<Option<Dispute>, StoreError> {
        disputes::table
            .find(*id.as_uuid())
            .for_update()
            .select(DisputeRow::as_select())
            .first(self.conn()?)
            .await
            .optional()
            .map_err(store_error)?
            .map(Dispute::try_from)
            .transpose()
    }

    async fn insert_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError> {
        diesel::insert_into(disputes::table)
            .values(DisputeRow::from(dispute))
            .execute(self.conn()?)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn update_dispute(&mut self, dispute: &Dispute) -> Result<(), StoreError> {
        let updated = diesel::update(disputes::table.find(*dispute.id.as_uuid()))
            .set(DisputeRow::from(dispute))
            .execute(self.conn()?)
            .await
            .map_err(store_error)?;
        match updated {
            1 => Ok(()),
            _ => Err(StoreError::Stale),
        }
    }

    async fn reserve_sequences(&mut self, order: OrderId, count: u64) -> Result<u64, StoreError> {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let last: i64 = diesel::update(orders::table.find(*order.as_uuid()))
            .set(orders::event_sequence.eq(orders::event_sequence + count))
            .returning(orders::event_sequence)
            .get_result(self.conn()?)
            .await
            .map_err(store_error)?;
        Ok(u64::try_from(last - count + 1).unwrap_or_default())
    }

    async fn append_outbox(&mut self, events: Vec<RecordedEvent>) -> Result<(), StoreError> {
        let rows: Vec<_> = events
            .into_iter()
            .map(|RecordedEvent { message, story }| {
                (
                    (
                        outbox::event_id.eq(*message.event_id.as_uuid()),
                        outbox::event_type.eq(message.event_type.as_str()),
                        outbox::order_id.eq(*message.order_id.as_uuid()),
                        outbox::occurred_at.eq(message.occurred_at),
                        // Due from the service's clock, as the relay's claim compares it
                        // with, never the database's `now()`: a database clock ahead of the
                        // service's would hold every new event back by the difference.
                        outbox::next_attempt_at.eq(message.occurred_at),
                        outbox::payload.eq(message.payload),
                    ),
                    (
                        outbox::sequence.eq(i64::try_from(story.sequence).unwrap_or(i64::MAX)),
                        outbox::actor_type.eq(story.actor.kind()),
                        outbox::actor_id.eq(story.actor.id().map(|id| *id.as_uuid())),
                        outbox::from_status.eq(story.from_status.as_str()),
                        outbox::to_status.eq(story.to_status.as_str()),
                        outbox::details.eq(story.details),
                    ),
                )
            })
            .collect();
        diesel::insert_into(outbox::table)
            .values(rows)
            .execute(self.conn()?)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        let mut connection = self
            .connection
            .take()
            .ok_or_else(|| StoreError::Internal("the unit of work has already committed".into()))?;
        AnsiTransactionManager::commit_transaction(&mut *connection)
            .await
            .map_err(store_error)
    }
}
