use order_domain::order::{Changed, Sweep};
use order_domain::{Actor, DisputeId, DomainError, Order, OrderId};
use order_ports::SweepClaim;

use super::Swept;
use crate::{AppError, OrderService};

/// What one sweep of the deadline worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeadlineSweep {
    /// Auction orders cancelled because their winner did not pay by `pay_by`.
    pub payments_expired: Vec<OrderId>,
    /// Paid orders whose seller let `ship_by` pass, announced with `order.ship_overdue`.
    pub ship_overdue: Vec<OrderId>,
    /// Disputes moved to REVIEW because nobody answered by `respond_by`.
    pub disputes_escalated: Vec<DisputeId>,
    /// Rows the store claimed as due that the domain refused (the two disagree: a bug),
    /// each logged and left alone.
    pub refused: usize,
}

impl DeadlineSweep {
    pub fn is_empty(&self) -> bool {
        self.payments_expired.is_empty()
            && self.ship_overdue.is_empty()
            && self.disputes_escalated.is_empty()
    }
}

impl OrderService {
    /// Enforces every deadline that has passed, in batches of `batch` rows a
    /// transaction: unpaid auction orders are cancelled, late shipments announced once,
    /// unanswered disputes escalated. Rows are claimed with `SKIP LOCKED`, so any number of
    /// replicas may sweep at once and each effect happens once. (A Buy It Now cut by a
    /// Wallet outage is resumed by the intent worker, as the buyer's retry would.)
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enforce_deadlines(&self, batch: usize) -> Result<DeadlineSweep, AppError> {
        let expired = self
            .sweep_orders(Sweep::UnpaidAuction, batch, Order::expire_payment)
            .await?;
        let overdue = self
            .sweep_orders(Sweep::LateShipment, batch, Order::flag_ship_overdue)
            .await?;
        let escalated = self.escalate_unanswered(batch).await?;
        Ok(DeadlineSweep {
            refused: expired.refused.len() + overdue.refused.len() + escalated.refused.len(),
            payments_expired: expired.done,
            ship_overdue: overdue.done,
            disputes_escalated: escalated.done,
        })
    }

    /// Applies `change` to every order due for `sweep`, a batch a transaction, until a
    /// batch comes back short. An order the domain refuses although the store found it due
    /// (the two disagree: a bug) is logged and left alone for this sweep; the rest of its
    /// batch goes on.
    async fn sweep_orders(
        &self,
        sweep: Sweep,
        batch: usize,
        change: impl Fn(&Order, chrono::DateTime<chrono::Utc>) -> Result<Changed<Order>, DomainError>,
    ) -> Result<Swept<OrderId>, AppError> {
        let mut done = Vec::new();
        let mut refused = Vec::new();
        loop {
            let now = self.ports.clock.now();
            let mut uow = self.begin().await?;
            let due = uow
                .claim_due_orders(sweep, SweepClaim::new(now, batch, refused.clone()))
                .await?;
            let mut changed_ids = Vec::with_capacity(due.len());
            for order in &due {
                match change(order, now) {
                    Ok(changed) => {
                        self.store_change(uow.as_mut(), order.status, changed, Actor::System)
                            .await?;
                        changed_ids.push(order.id);
                    }
                    Err(error) => {
                        tracing::error!(
                            order_id = %order.id, ?sweep, %error,
                            "the store found an order due that the domain refuses; left alone"
                        );
                        refused.push(order.id);
                    }
                }
            }
            uow.commit().await?;
            done.extend(changed_ids);
            if due.len() < batch {
                return Ok(Swept { done, refused });
            }
        }
    }

    /// Moves every dispute left unanswered past `respond_by` to REVIEW, a batch a
    /// transaction, leaving alone (and logging) one the domain refuses.
    async fn escalate_unanswered(&self, batch: usize) -> Result<Swept<DisputeId>, AppError> {
        let mut done = Vec::new();
        let mut refused = Vec::new();
        loop {
            let now = self.ports.clock.now();
            let mut uow = self.begin().await?;
            let due = uow
                .claim_unanswered_disputes(SweepClaim::new(now, batch, refused.clone()))
                .await?;
            let mut escalated_ids = Vec::with_capacity(due.len());
            for (order, dispute) in &due {
                match order.idle().and_then(|idle| dispute.escalate(idle, now)) {
                    Ok((escalated, _, events)) => {
                        uow.update_dispute(&escalated).await?;
                        self.append_events(uow.as_mut(), &events, Actor::System, order.status)
                            .await?;
                        escalated_ids.push(dispute.id);
                    }
                    Err(error) => {
                        tracing::error!(
                            dispute_id = %dispute.id, %error,
                            "the store found a dispute unanswered that the domain refuses to escalate; left alone"
                        );
                        refused.push(dispute.id);
                    }
                }
            }
            uow.commit().await?;
            done.extend(escalated_ids);
            if due.len() < batch {
                return Ok(Swept { done, refused });
            }
        }
    }
}
