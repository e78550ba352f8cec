//! What the workers claim, `FOR UPDATE SKIP LOCKED`: orders due for auto-completion,
//! orders past a deadline, disputes left unanswered. Each filter matches the partial index
//! made for its sweep.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use order_domain::dispute::DisputeStatus;
use order_domain::order::OrderSource;
use order_domain::{Dispute, DisputeId, Order, OrderId, OrderStatus};
use order_ports::{OrderDeadline, StoreError};
use uuid::Uuid;

use crate::error::store_error;
use crate::rows::{DisputeRow, OrderRow};
use crate::schema::{disputes, orders};

use super::PgUnitOfWork;

impl PgUnitOfWork {
    /// `UnitOfWork::claim_due_order`.
    pub(super) async fn claim_due(
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

    /// `UnitOfWork::claim_overdue_orders`.
    pub(super) async fn claim_overdue(
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

    /// `UnitOfWork::claim_unanswered_disputes`.
    pub(super) async fn claim_unanswered(
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
}
