use order_domain::OrderId;

use crate::{AppError, OrderService};

/// What one sweep of the auto-completion worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoCompletion {
    pub completed: Vec<OrderId>,
    /// Orders whose escrow could not be released this time; the next sweep retries them.
    pub failed: Vec<OrderId>,
}

impl OrderService {
    /// Completes up to `limit` orders whose buyer neither confirmed nor disputed within
    /// the auto-completion delay after shipping, exactly as the buyer's confirmation would.
    ///
    /// Each order is claimed, paid out and completed in its own unit of work, so that any
    /// number of workers can sweep at once without completing an order twice, and a
    /// failing wallet holds up only the order it failed on.
    pub async fn complete_due(&self, limit: usize) -> Result<AutoCompletion, AppError> {
        let mut sweep = AutoCompletion::default();
        while sweep.completed.len() + sweep.failed.len() < limit {
            let now = self.ports.clock.now();
            let cutoff = self.settings.auto_complete.shipped_cutoff(now);
            let mut uow = self.begin().await?;
            let Some(order) = uow.claim_due_order(cutoff, sweep.failed.clone()).await? else {
                break;
            };
            let changed = order.auto_complete(&self.settings.auto_complete, now)?;
            if let Err(error) = self.release_escrow(&order).await {
                tracing::warn!(order_id = %order.id, %error, "auto-completion postponed");
                sweep.failed.push(order.id);
                continue;
            }
            self.store_change(uow.as_mut(), order.status, changed)
                .await?;
            uow.commit().await?;
            sweep.completed.push(order.id);
        }
        Ok(sweep)
    }
}
