use order_domain::OrderId;
use order_ports::IntentLease;

use crate::money::IntentOutcome;
use crate::{AppError, OrderService};

/// What one sweep of the intent worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntentSweep {
    /// Intents finished: the Wallet answered and the order changed.
    pub applied: Vec<OrderId>,
    /// Intents someone else had finished meanwhile.
    pub already_finished: Vec<OrderId>,
    /// Intents the Wallet still could not be reached for; a later sweep tries again.
    pub postponed: Vec<OrderId>,
    /// Intents the Wallet refused for good; dropped, nothing moved.
    pub abandoned: Vec<OrderId>,
    /// Intents the domain refused to finish with the Wallet's answer (the order and its
    /// intent disagree: a bug). Logged and left recorded, so that they do not stop the
    /// intents behind them; they are claimed again once their lease runs out.
    pub refused: Vec<OrderId>,
}

impl OrderService {
    /// Finishes up to `limit` escrow intents whose requester went silent — a crash, a
    /// timeout or a Wallet outage between recording the intent and applying the Wallet's
    /// answer — exactly as the requester's retry would: the same Wallet call with the same
    /// idempotency key, then the change. A stuck Buy It Now payment is resumed this way too:
    /// the hold is retried, never the order blindly cancelled, since a hold may exist.
    ///
    /// Each claimed intent is leased for `resume_after`, so that other replicas' workers
    /// leave it alone meanwhile; nothing stays locked while the Wallet is called.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn resume_intents(&self, limit: usize) -> Result<IntentSweep, AppError> {
        let now = self.ports.clock.now();
        let until = now + self.settings.resume_after;
        let lease = IntentLease { now, until, limit };
        let claimed = self.ports.store.claim_stale_intents(lease).await?;
        let mut sweep = IntentSweep::default();
        for order in claimed {
            let outcome = match self.resume_intent(&order).await {
                Ok(outcome) => outcome,
                Err(AppError::Domain(error)) => {
                    tracing::error!(
                        order_id = %order.id, %error,
                        "the domain refuses to finish an escrow intent; left recorded"
                    );
                    sweep.refused.push(order.id);
                    continue;
                }
                Err(error) => return Err(error),
            };
            match outcome {
                IntentOutcome::Applied => &mut sweep.applied,
                IntentOutcome::AlreadyFinished => &mut sweep.already_finished,
                IntentOutcome::Postponed => &mut sweep.postponed,
                IntentOutcome::Abandoned => &mut sweep.abandoned,
            }
            .push(order.id);
        }
        Ok(sweep)
    }
}
