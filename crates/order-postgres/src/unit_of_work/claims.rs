//! What the workers claim, `FOR UPDATE SKIP LOCKED`: orders due for a [`Sweep`], disputes
//! left unanswered. Which orders are due is the domain's rule (`Order::is_due`); the filter
//! here is written from the same `Sweep`; the store contract holds it to that rule, and
//! `tests/sweeps.rs` to the partial index made for each sweep in `migrations/`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::helper_types::InnerJoinQuerySource;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use order_domain::dispute::DisputeStatus;
use order_domain::order::{OrderSource, Sweep};
use order_domain::personal::ErasureDue;
use order_domain::{Dispute, DisputeId, Order, OrderId, OrderStatus};
use order_ports::{StoreError, SweepClaim, SweepClaims};
use uuid::Uuid;

use crate::error::store_error;
use crate::rows::{DisputeRow, OrderRow};
use crate::schema::{disputes, orders};

use super::PgUnitOfWork;

type Due = Box<dyn BoxableExpression<orders::table, Pg, SqlType = Nullable<Bool>>>;
type Deadline = Box<dyn BoxableExpression<orders::table, Pg, SqlType = Nullable<Timestamptz>>>;

/// `Order::is_due` for `sweep`, as SQL: an order waiting on the Wallet is due for nothing.
fn due(sweep: Sweep, now: DateTime<Utc>) -> Due {
    let idle = orders::escrow_intent.is_null();
    match sweep {
        Sweep::UnpaidAuction => Box::new(
            idle.and(orders::status.eq(OrderStatus::PendingPayment.as_str()))
                .and(orders::source.eq(OrderSource::Auction.as_str()))
                .and(orders::pay_by.le(now)),
        ),
        Sweep::LateShipment => Box::new(
            idle.and(orders::status.eq(OrderStatus::Paid.as_str()))
                .and(orders::ship_overdue_at.is_null())
                .and(orders::ship_by.le(now)),
        ),
        Sweep::DueCompletion => Box::new(
            idle.and(orders::status.eq_any([
                OrderStatus::Shipped.as_str(),
                OrderStatus::Delivered.as_str(),
            ]))
            .and(orders::auto_complete_at.le(now)),
        ),
    }
}

/// `Sweep::deadline` as SQL: the longest overdue is claimed first.
fn deadline(sweep: Sweep) -> Deadline {
    match sweep {
        Sweep::UnpaidAuction => Box::new(orders::pay_by),
        Sweep::LateShipment => Box::new(orders::ship_by),
        Sweep::DueCompletion => Box::new(orders::auto_complete_at),
    }
}

/// A dispute left unanswered at `now`: still OPEN or in EVIDENCE past its `respond_by`,
/// its order not waiting on the Wallet. What the escalation claims, and what its backlog
/// reads.
fn unanswered(now: DateTime<Utc>) -> Unanswered {
    Box::new(
        disputes::status
            .eq_any([
                DisputeStatus::Open.as_str(),
                DisputeStatus::Evidence.as_str(),
            ])
            .and(disputes::respond_by.le(now))
            .and(orders::escrow_intent.is_null()),
    )
}

type Unanswered = Box<
    dyn BoxableExpression<
        InnerJoinQuerySource<disputes::table, orders::table>,
        Pg,
        SqlType = Nullable<Bool>,
    >,
>;

/// `OrderStore::oldest_due`: the claim's filter and order, read without locking.
pub(crate) async fn oldest_due(
    conn: &mut AsyncPgConnection,
    sweep: Sweep,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    orders::table
        .filter(due(sweep, now))
        .order(deadline(sweep).asc())
        .select(deadline(sweep))
        .first::<Option<DateTime<Utc>>>(conn)
        .await
        .optional()
        .map(Option::flatten)
        .map_err(store_error)
}

/// `OrderStore::oldest_unanswered_dispute`: the escalation's filter and order, read without
/// locking.
pub(crate) async fn oldest_unanswered(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    disputes::table
        .inner_join(orders::table)
        .filter(unanswered(now))
        .order(disputes::respond_by.asc())
        .select(disputes::respond_by)
        .first::<Option<DateTime<Utc>>>(conn)
        .await
        .optional()
        .map(Option::flatten)
        .map_err(store_error)
}

#[async_trait]
impl SweepClaims for PgUnitOfWork {
    async fn claim_due_orders(
        &mut self,
        sweep: Sweep,
        claim: SweepClaim<OrderId>,
    ) -> Result<Vec<Order>, StoreError> {
        self.flush().await?;
        let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
        let skip: Vec<Uuid> = claim.skip.iter().map(|id| *id.as_uuid()).collect();
        let rows: Vec<(OrderRow, i64)> = orders::table
            .filter(due(sweep, claim.now))
            .filter(orders::id.ne_all(skip))
            .order(deadline(sweep).asc())
            .limit(limit)
            .for_update()
            .skip_locked()
            .select((OrderRow::as_select(), orders::event_sequence))
            .load(self.conn()?)
            .await
            .map_err(store_error)?;
        self.hold_all(rows).await
    }

    async fn claim_unanswered_disputes(
        &mut self,
        claim: SweepClaim<DisputeId>,
    ) -> Result<Vec<(Order, Dispute)>, StoreError> {
        self.flush().await?;
        let skip: Vec<Uuid> = claim.skip.iter().map(|id| *id.as_uuid()).collect();
        let rows: Vec<(DisputeRow, OrderRow, i64)> = disputes::table
            .inner_join(orders::table)
            .filter(unanswered(claim.now))
            .filter(disputes::id.ne_all(skip))
            .order(disputes::respond_by.asc())
            .limit(i64::try_from(claim.limit).unwrap_or(i64::MAX))
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

    async fn claim_erasable_orders(
        &mut self,
        due: ErasureDue,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.claim_erasable(due, limit).await
    }
}

impl PgUnitOfWork {
    /// The plan of `sweep`'s claim, as `EXPLAIN` prints it, with sequential scans priced
    /// out for this transaction: on a table of any size, whether the partial index made for
    /// the sweep can serve its query.
    pub(crate) async fn explain_claim(
        &mut self,
        sweep: Sweep,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let query = orders::table
            .filter(due(sweep, now))
            .filter(orders::id.ne_all(Vec::<Uuid>::new()))
            .order(deadline(sweep).asc())
            .limit(50)
            .for_update()
            .skip_locked()
            .select(orders::id);
        self.plan_of(query).await
    }
}
