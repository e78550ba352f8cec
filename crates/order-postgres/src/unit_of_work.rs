//! One database transaction, as the use cases' unit of work.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};
use order_domain::{Dispute, DisputeId, ListingId, Order, OrderId, OrderStatus};
use order_ports::{OutboxMessage, StoreError, UnitOfWork};
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
        shipped_before: DateTime<Utc>,
        skip: Vec<OrderId>,
    ) -> Result<Option<Order>, StoreError> {
        let skip: Vec<Uuid> = skip.iter().map(|id| *id.as_uuid()).collect();
        let awaiting = [
            OrderStatus::Shipped.as_str(),
            OrderStatus::Delivered.as_str(),
        ];
        let row = orders::table
            .filter(orders::status.eq_any(awaiting))
            .filter(orders::shipped_at.le(shipped_before))
            .filter(orders::id.ne_all(skip))
            .filter(orders::escrow_intent.is_null())
            .order(orders::shipped_at.asc())
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

    async fn append_outbox(&mut self, messages: Vec<OutboxMessage>) -> Result<(), StoreError> {
        let rows: Vec<_> = messages
            .into_iter()
            .map(|message| {
                (
                    outbox::event_id.eq(*message.event_id.as_uuid()),
                    outbox::event_type.eq(message.event_type.as_str()),
                    outbox::order_id.eq(*message.order_id.as_uuid()),
                    outbox::occurred_at.eq(message.occurred_at),
                    // Due from the service's clock, as the relay's claim compares it with,
                    // never the database's `now()`: a database clock ahead of the service's
                    // would hold every new event back by the difference.
                    outbox::next_attempt_at.eq(message.occurred_at),
                    outbox::payload.eq(message.payload),
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
