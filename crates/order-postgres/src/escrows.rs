//! The orders a reconciliation reads: every order with an escrow in id order, or those
//! changed since a time in the order of the outbox, each with its recorded settlement.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use order_domain::{Order, OrderId, OrderStatus, Settlement};
use order_ports::store::{EscrowCursor, EscrowLine, EscrowLines, EscrowScope};
use order_ports::{OrderStore, StoreError};
use uuid::Uuid;

use crate::error::{corrupt, store_error};
use crate::rows::{OrderRow, SummaryRow};
use crate::schema::{disputes, orders};
use crate::store::{read, with_summaries, PgStore, SUMMARY_COLUMNS};

/// How much earlier than its place in the outbox an event may say it occurred: the time a
/// transaction can take between its clock reading and its insert. A change is looked for
/// from this much before the time asked for, so that none is left out.
const CHANGE_CLOCK_SLACK: TimeDelta = TimeDelta::minutes(5);

#[derive(QueryableByName)]
struct ChangeRow {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    order_id: Uuid,
}

#[derive(QueryableByName)]
struct SettlementRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    order_id: Uuid,
    #[diesel(sql_type = Jsonb)]
    settlement: serde_json::Value,
}

#[derive(QueryableByName)]
struct FirstChange {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    occurred_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Bounds {
    #[diesel(sql_type = Nullable<BigInt>)]
    first: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    last: Option<i64>,
}

impl PgStore {
    pub(crate) async fn read_escrow_lines(
        &self,
        scope: EscrowScope,
        after: Option<EscrowCursor>,
        limit: usize,
    ) -> Result<EscrowLines, StoreError> {
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX);
        let (orders, next) = match scope {
            EscrowScope::Order(id) => {
                let order = self.order(id).await?;
                (order.into_iter().collect(), None)
            }
            EscrowScope::All => {
                let from = match after {
                    Some(EscrowCursor::AfterOrder(id)) => *id.as_uuid(),
                    _ => Uuid::nil(),
                };
                let rows: Vec<(OrderRow, Option<SummaryRow>)> = read!(self, |conn| orders::table
                    .left_join(disputes::table)
                    .filter(orders::escrow_id.is_not_null())
                    .filter(orders::id.gt(from))
                    .order(orders::id.asc())
                    .limit(fetch)
                    .select((OrderRow::as_select(), SUMMARY_COLUMNS.nullable()))
                    .load(conn)
                    .await)?;
                let orders = with_summaries(rows)?;
                let next = next_cursor(&orders, limit, |order| EscrowCursor::AfterOrder(order.id));
                (orders, next)
            }
            EscrowScope::ChangedSince(since) => {
                let from = match after {
                    Some(EscrowCursor::AfterChange(seq)) => seq,
                    _ => self.first_change_at(since - CHANGE_CLOCK_SLACK).await? - 1,
                };
                // An order is read at its latest event (its `event_sequence`), so that it
                // is read once however often it changed.
                let changes: Vec<ChangeRow> = read!(self, |conn| diesel::sql_query(
                    "SELECT e.seq, e.order_id FROM outbox e JOIN orders o ON o.id = e.order_id
                     WHERE e.seq > $1 AND e.sequence = o.event_sequence
                       AND o.escrow_id IS NOT NULL
                     ORDER BY e.seq LIMIT $2",
                )
                .bind::<BigInt, _>(from)
                .bind::<BigInt, _>(fetch)
                .load(conn)
                .await)?;
                let next = next_cursor(&changes, limit, |change| {
                    EscrowCursor::AfterChange(change.seq)
                });
                let ids: Vec<Uuid> = changes.iter().map(|change| change.order_id).collect();
                let rows: Vec<(OrderRow, Option<SummaryRow>)> = read!(self, |conn| orders::table
                    .left_join(disputes::table)
                    .filter(orders::id.eq_any(&ids))
                    .select((OrderRow::as_select(), SUMMARY_COLUMNS.nullable()))
                    .load(conn)
                    .await)?;
                let orders = with_summaries(rows)?;
                (orders, next)
            }
        };
        let orders: Vec<Order> = orders
            .into_iter()
            .filter(|order| order.escrow_id.is_some())
            .collect();
        let mut settlements = self.recorded_settlements(&orders).await?;
        let lines = orders
            .into_iter()
            .map(|order| EscrowLine {
                settlement: settlements.remove(&order.id),
                order,
            })
            .collect();
        Ok(EscrowLines { lines, next })
    }

    /// For each paid-out order, the settlement of its latest event that carries one.
    async fn recorded_settlements(
        &self,
        orders: &[Order],
    ) -> Result<std::collections::HashMap<OrderId, Settlement>, StoreError> {
        let ended: Vec<Uuid> = orders
            .iter()
            .filter(|order| {
                matches!(
                    order.status,
                    OrderStatus::Completed | OrderStatus::Refunded | OrderStatus::Cancelled
                )
            })
            .map(|order| *order.id.as_uuid())
            .collect();
        if ended.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<SettlementRow> = read!(self, |conn| diesel::sql_query(
            "SELECT DISTINCT ON (order_id) order_id, details -> 'settlement' AS settlement
             FROM outbox WHERE order_id = ANY($1) AND details ? 'settlement'
             ORDER BY order_id, sequence DESC",
        )
        .bind::<Array<diesel::sql_types::Uuid>, _>(&ended)
        .load(conn)
        .await)?;
        rows.into_iter()
            .map(|row| {
                let settlement = serde_json::from_value(row.settlement)
                    .map_err(|error| corrupt("settlement", error))?;
                Ok((OrderId::from_uuid(row.order_id), settlement))
            })
            .collect()
    }

    /// The outbox's first place whose event occurred at or after `at` (one past the last
    /// when none did), found by halving the outbox's range of places: its events are in
    /// insert order, which is their time order but for [`CHANGE_CLOCK_SLACK`].
    async fn first_change_at(&self, at: DateTime<Utc>) -> Result<i64, StoreError> {
        let bounds: Bounds = read!(self, |conn| diesel::sql_query(
            "SELECT min(seq) AS first, max(seq) AS last FROM outbox"
        )
        .get_result(conn)
        .await)?;
        let (Some(mut low), Some(last)) = (bounds.first, bounds.last) else {
            return Ok(1);
        };
        let mut high = last + 1;
        while low < high {
            let middle = low + (high - low) / 2;
            let first: FirstChange = read!(self, |conn| diesel::sql_query(
                "SELECT (SELECT occurred_at FROM outbox WHERE seq >= $1 ORDER BY seq LIMIT 1)
                 AS occurred_at",
            )
            .bind::<BigInt, _>(middle)
            .get_result(conn)
            .await)?;
            match first.occurred_at {
                Some(occurred_at) if occurred_at < at => low = middle + 1,
                _ => high = middle,
            }
        }
        Ok(low)
    }
}

/// Where the next page starts: after the last of `read` when it filled the page of `limit`;
/// `None` when this page was the last.
fn next_cursor<T>(
    read: &[T],
    limit: usize,
    at: impl Fn(&T) -> EscrowCursor,
) -> Option<EscrowCursor> {
    if read.len() == limit {
        read.last().map(at)
    } else {
        None
    }
}
