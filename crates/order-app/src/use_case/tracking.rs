use chrono::TimeDelta;
use order_domain::order::TrackingUpdate;
use order_domain::{Actor, OrderId};

use crate::{AppError, OrderService};

/// How long an applied update's id is remembered: aggregators retry for hours, at most
/// days. A repeat arriving later would be applied again, but by then its order has
/// almost always ended, and an update for an ended order changes nothing.
pub const CARRIER_EVENTS_KEPT: TimeDelta = TimeDelta::days(30);

/// What became of a carrier's tracking update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackingReceipt {
    /// Applied now to these orders (an order the update told nothing new is among them,
    /// unchanged).
    Applied(Vec<OrderId>),
    /// Applied before, to these orders: nothing changed now.
    Repeat(Vec<OrderId>),
    /// No SHIPPED or DELIVERED order has this parcel: the update is recorded nowhere.
    NoOrder,
}

impl OrderService {
    /// A carrier's tracking update, its sender already authenticated, applied to every
    /// SHIPPED or DELIVERED order sent as that parcel, once per update id.
    ///
    /// The orders are locked before the update is recorded: a second replica given the
    /// same update waits for the first to commit, then finds it recorded. The update is
    /// recorded, and the orders changed, in one unit of work: all of it or none.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn receive_tracking_update(
        &self,
        update: TrackingUpdate,
    ) -> Result<TrackingReceipt, AppError> {
        let now = self.ports.clock.now();
        update.check_date(now)?;
        let mut uow = self.begin().await?;
        let orders = uow.lock_orders_by_parcel(&update.parcel()).await?;
        if orders.is_empty() {
            let earlier = uow.carrier_event(&update.event_id).await?;
            return Ok(earlier.map_or(TrackingReceipt::NoOrder, TrackingReceipt::Repeat));
        }
        let ids: Vec<OrderId> = orders.iter().map(|order| order.id).collect();
        if !uow
            .record_carrier_event(&update.event_id, ids.clone(), now)
            .await?
        {
            let earlier = uow.carrier_event(&update.event_id).await?;
            return Ok(TrackingReceipt::Repeat(earlier.unwrap_or(ids)));
        }
        for order in &orders {
            let changed = order.apply_tracking_update(&update, &self.settings.deadlines, now)?;
            if let Some(changed) = changed {
                self.store_change(uow.as_mut(), order.status, changed, Actor::Carrier)
                    .await?;
            }
        }
        uow.commit().await?;
        Ok(TrackingReceipt::Applied(ids))
    }

    /// Forgets the ids of carriers' updates applied more than 30 days ago (far longer than
    /// any carrier retries a delivery); how many it forgot.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn forget_old_carrier_events(&self) -> Result<u64, AppError> {
        let before = self.ports.clock.now() - CARRIER_EVENTS_KEPT;
        Ok(self.ports.store.forget_carrier_events(before).await?)
    }
}
