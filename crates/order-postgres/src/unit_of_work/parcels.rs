//! Carriers' updates: the orders a parcel belongs to, locked, and the record of each update
//! applied, whose primary key makes two replicas receiving one update apply it once.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::RunQueryDsl;
use order_domain::order::{CarrierEventId, OrderAction, ParcelKey};
use order_domain::{Order, OrderId};
use order_ports::StoreError;
use uuid::Uuid;

use crate::error::store_error;
use crate::fragment::ParcelMatch;
use crate::rows::OrderRow;
use crate::schema::{carrier_events, orders};

use super::PgUnitOfWork;

type Filter = Box<dyn BoxableExpression<orders::table, Pg, SqlType = Bool>>;

/// The orders `Order::followed_parcel` says `parcel` is: the `orders_by_parcel` index's
/// expressions and predicate, so that the index serves the lookup.
fn of_parcel(parcel: &ParcelKey) -> Filter {
    let followed: Vec<&str> = OrderAction::TrackParcel
        .allowed_from()
        .iter()
        .map(|status| status.as_str())
        .collect();
    Box::new(
        ParcelMatch {
            tracking_number: parcel.tracking_number().to_owned(),
            carrier: parcel.carrier().to_owned(),
        }
        .and(orders::status.eq_any(followed)),
    )
}

impl PgUnitOfWork {
    /// `UnitOfWork::lock_orders_by_parcel`: `FOR UPDATE` in id order; a row that changed
    /// status while this waited for its lock is checked again by PostgreSQL and left out.
    pub(super) async fn lock_parcel(
        &mut self,
        parcel: &ParcelKey,
    ) -> Result<Vec<Order>, StoreError> {
        self.flush().await?;
        let rows: Vec<(OrderRow, i64)> = orders::table
            .filter(of_parcel(parcel))
            .order(orders::id)
            .for_update()
            .select((OrderRow::as_select(), orders::event_sequence))
            .load(self.conn()?)
            .await
            .map_err(store_error)?;
        self.hold_all(rows).await
    }

    /// The plan of the parcel lookup, as `EXPLAIN` prints it with sequential scans priced
    /// out: whether `orders_by_parcel` serves it.
    pub(crate) async fn explain_parcel(
        &mut self,
        parcel: &ParcelKey,
    ) -> Result<String, StoreError> {
        let query = orders::table
            .filter(of_parcel(parcel))
            .order(orders::id)
            .select(orders::id);
        self.plan_of(query).await
    }

    /// `UnitOfWork::record_carrier_event`: `ON CONFLICT DO NOTHING` waits for a concurrent
    /// insert of the same id to end, and inserts only if it rolled back.
    pub(super) async fn record_carrier(
        &mut self,
        event_id: &CarrierEventId,
        orders: Vec<OrderId>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.flush().await?;
        let order_ids: Vec<Uuid> = orders.iter().map(|id| *id.as_uuid()).collect();
        let inserted = diesel::insert_into(carrier_events::table)
            .values((
                carrier_events::event_id.eq(event_id.as_str()),
                carrier_events::order_ids.eq(order_ids),
                carrier_events::received_at.eq(at),
            ))
            .on_conflict_do_nothing()
            .execute(self.conn()?)
            .await
            .map_err(store_error)?;
        Ok(inserted == 1)
    }

    /// `UnitOfWork::carrier_event`.
    pub(super) async fn recorded_carrier(
        &mut self,
        event_id: &CarrierEventId,
    ) -> Result<Option<Vec<OrderId>>, StoreError> {
        self.flush().await?;
        let order_ids: Option<Vec<Uuid>> = carrier_events::table
            .find(event_id.as_str())
            .select(carrier_events::order_ids)
            .first(self.conn()?)
            .await
            .optional()
            .map_err(store_error)?;
        Ok(order_ids.map(|ids| ids.into_iter().map(OrderId::from).collect()))
    }
}
