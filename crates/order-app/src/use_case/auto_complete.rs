use order_domain::order::Sweep;
use order_domain::OrderId;
use order_ports::SweepClaim;

use crate::{AppError, OrderService};

/// What one sweep of the auto-completion worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoCompletion {
    pub completed: Vec<OrderId>,
    /// Orders whose escrow could not be released this time; their recorded release is
    /// finished by the intent worker once the Wallet answers again.
    pub failed: Vec<OrderId>,
    /// Orders the store claimed as due that the domain refuses to complete (the two
    /// disagree: a bug), logged and left alone so that they do not stop the orders behind
    /// them.
    pub refused: Vec<OrderId>,
}

impl OrderService {
    /// Completes up to `limit` orders whose buyer neither confirmed nor disputed by their
    /// `auto_complete_at`, exactly as the buyer's confirmation would.
    ///
    /// Each order is claimed and its release recorded in a short unit of work of its own,
    /// so that any number of workers can sweep at once without completing an order twice;
    /// the Wallet is then called with nothing locked, and a failing Wallet holds up only the
    /// order it failed on. An order the domain refuses although the store claimed it is
    /// logged and passed over, as a failed one is.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn complete_due(&self, limit: usize) -> Result<AutoCompletion, AppError> {
        let mut sweep = AutoCompletion::default();
        while sweep.completed.len() + sweep.failed.len() + sweep.refused.len() < limit {
            let now = self.ports.clock.now();
            let mut uow = self.begin().await?;
            let passed_over = [sweep.failed.as_slice(), &sweep.refused].concat();
            let claimed = uow
                .claim_due_orders(Sweep::DueCompletion, SweepClaim::new(now, 1, passed_over))
                .await?;
            let Some(order) = claimed.into_iter().next() else {
                break;
            };
            let request = match order.request_auto_completion(now, self.settings.resume_after) {
                Ok(request) => request,
                Err(error) => {
                    tracing::error!(
                        order_id = %order.id, %error,
                        "the store found an order due for completion that the domain refuses; left alone"
                    );
                    sweep.refused.push(order.id);
                    continue;
                }
            };
            match self.drive(uow, &order, request).await {
                Ok(_) => sweep.completed.push(order.id),
                Err(error) => {
                    tracing::warn!(order_id = %order.id, %error, "auto-completion postponed");
                    sweep.failed.push(order.id);
                }
            }
        }
        Ok(sweep)
    }
}
