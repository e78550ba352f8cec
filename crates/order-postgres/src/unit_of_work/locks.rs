//! Locking an order with its dispute, in one pipelined exchange, order first.

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::rows::{DisputeRow, OrderRow, SummaryRow};
use crate::schema::{disputes, orders};

/// The order's row (with its event sequence) and its dispute, both locked, read in one
/// pipelined exchange. The dispute's lock follows the order's, as everywhere (order first,
/// then dispute), so it adds no way to deadlock.
pub(super) async fn lock_with_dispute(
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
pub(super) async fn lock_by_dispute(
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

pub(super) fn summary_of(dispute: &DisputeRow) -> SummaryRow {
    (
        dispute.id,
        dispute.order_id,
        dispute.status.clone(),
        dispute.resolution.clone(),
    )
}
