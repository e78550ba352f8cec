//! The money driver: the one way any change moves money, in three steps, so that no
//! database connection or transaction is held while the Wallet is called.
//!
//! (1) Lock the order, let the domain decide and record the escrow intent, commit.
//! (2) Call the Wallet with the intent's idempotency key, holding nothing.
//! (3) Lock the order again and, if the same intent is still pending, apply the Wallet's
//!     answer with its events, commit; if the Wallet could not be reached, let go of the
//!     intent; if it refused for good, drop it.
//!
//! Between (1) and (3) the order refuses every other change, so a slow Wallet delays only
//! the orders whose money it is moving. A crash, a timeout or a 503 there leaves the intent
//! recorded: the caller's retry, or the intent worker once `resume_at` has passed, calls the
//! Wallet again with the same key and finishes it — exactly once, because the Wallet moves
//! money once per key and step (3) applies an intent once.
//!
//! A money-moving use case is the domain's decision passed to [`OrderService::move_money`]
//! (or, on an order it already holds locked, [`OrderService::drive`]); nothing else here is
//! for use cases to call.

use chrono::{DateTime, TimeDelta, Utc};
use order_domain::order::{
    EscrowIntent, EscrowPurpose, IntentRequest, Movement, WalletAnswer, WalletCall,
};
use order_domain::{Dispute, Order, OrderId};
use order_ports::{HoldEscrow, RefundEscrow, ReleaseEscrow, StoreError, UnitOfWork, WalletError};

use crate::{AppError, OrderService};

/// An order after its escrow intent was applied, with the dispute a resolution changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Settled {
    pub order: Order,
    pub dispute: Option<Dispute>,
}

impl Settled {
    /// The dispute a resolution settled. It is locked with its order when the Wallet's
    /// answer is applied, so it is missing only if its row vanished: a fault of the store,
    /// never a 404 to the caller.
    pub fn resolved_dispute(self) -> Result<Dispute, AppError> {
        let order_id = self.order.id;
        self.dispute.ok_or_else(|| {
            AppError::Store(StoreError::Internal(format!(
                "the dispute of order {order_id} vanished while it was resolved"
            )))
        })
    }
}

/// What finishing an intent found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentOutcome {
    /// The Wallet answered and the order changed accordingly.
    Applied,
    /// Someone else (the requester's retry, another worker) had already finished it.
    AlreadyFinished,
    /// The Wallet could not be reached; the intent stays for a later attempt.
    Postponed,
    /// The Wallet refused the movement for good; the intent was dropped, nothing moved.
    Abandoned,
}

impl OrderService {
    /// All three steps for the order `order_id`: locks it, asks `decide` — the caller's
    /// rights and the domain's request for the movement, given the order, the time and how
    /// long the intent is left to its requester before a worker resumes it — and carries
    /// the movement out. The order as it ends.
    pub(crate) async fn move_money(
        &self,
        order_id: OrderId,
        decide: impl FnOnce(&Order, DateTime<Utc>, TimeDelta) -> Result<IntentRequest, AppError>,
    ) -> Result<Order, AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let request = decide(&order, self.ports.clock.now(), self.settings.resume_after)?;
        Ok(self.drive(uow, &order, request).await?.order)
    }

    /// All three steps for `request`, which the domain made of `before`, the order locked
    /// in `uow` (claimed by a worker, or locked with its dispute).
    pub(crate) async fn drive(
        &self,
        uow: Box<dyn UnitOfWork>,
        before: &Order,
        request: IntentRequest,
    ) -> Result<Settled, AppError> {
        let movement = self.record_intent(uow, before, request).await?;
        self.carry_out(&movement).await
    }

    /// Step (1) for a request the domain turned into `request`, on the order locked in `uow`.
    /// Commits the recorded intent; a pending one (a retry of the same movement) is carried
    /// on as it is.
    pub(crate) async fn record_intent(
        &self,
        mut uow: Box<dyn UnitOfWork>,
        before: &Order,
        request: IntentRequest,
    ) -> Result<Movement, AppError> {
        match request {
            IntentRequest::Recorded(movement) => {
                uow.update_order(&movement.order, before.status).await?;
                uow.commit().await?;
                Ok(movement)
            }
            IntentRequest::Pending(movement) => Ok(movement),
        }
    }

    /// Steps (2) and (3) for a recorded `movement`: the settled order, or why not. A
    /// Wallet that cannot be reached leaves the intent pending (503 to the caller).
    pub(crate) async fn carry_out(&self, movement: &Movement) -> Result<Settled, AppError> {
        let Movement { order, intent } = movement;
        let answer = self.call_wallet(order, intent).await;
        match answer {
            Ok(answer) => {
                let (settled, _) = self.apply_answer(order.id, intent, answer).await?;
                if answer == WalletAnswer::Declined {
                    return Err(AppError::PaymentDeclined);
                }
                Ok(settled)
            }
            Err(WalletError::Rejected(detail)) => {
                self.abandon(order.id, intent).await?;
                Err(AppError::from_wallet(WalletError::Rejected(detail)))
            }
            Err(unavailable) => {
                self.let_go(order.id, intent).await?;
                Err(AppError::from_wallet(unavailable))
            }
        }
    }

    /// Finishes the intent of an order a worker claimed after its requester went silent.
    pub(crate) async fn resume_intent(&self, order: &Order) -> Result<IntentOutcome, AppError> {
        let Some(intent) = order.escrow_intent.clone() else {
            return Ok(IntentOutcome::AlreadyFinished);
        };
        match self.call_wallet(order, &intent).await {
            Ok(answer) => {
                let (_, applied) = self.apply_answer(order.id, &intent, answer).await?;
                Ok(if applied {
                    IntentOutcome::Applied
                } else {
                    IntentOutcome::AlreadyFinished
                })
            }
            Err(WalletError::Rejected(detail)) => {
                tracing::error!(order_id = %order.id, %detail, "the wallet refused an intent");
                self.abandon(order.id, &intent).await?;
                Ok(IntentOutcome::Abandoned)
            }
            Err(error) => {
                tracing::warn!(order_id = %order.id, %error, "escrow intent postponed");
                self.let_go(order.id, &intent).await?;
                Ok(IntentOutcome::Postponed)
            }
        }
    }

    /// Step (2): the intent's Wallet call, made with the key the intent recorded.
    async fn call_wallet(
        &self,
        order: &Order,
        intent: &EscrowIntent,
    ) -> Result<WalletAnswer, WalletError> {
        let wallet = &self.ports.wallet;
        let key = intent.idempotency_key.clone();
        // Only a paid order can record a payout, so there is an escrow to pay out from;
        // were there none, the movement is refused as the Wallet would refuse it: dropped,
        // nothing moved, the caller told.
        let escrow_id = || {
            order.escrow_id.ok_or_else(|| {
                WalletError::Rejected(format!("order {} holds no escrow to pay out", order.id))
            })
        };
        match intent.purpose.wallet_call() {
            WalletCall::Hold { amount } => {
                let request = HoldEscrow {
                    order_id: order.id,
                    buyer_id: order.buyer_id,
                    amount,
                    idempotency_key: key,
                };
                match wallet.hold_escrow(request).await {
                    Ok(escrow_id) => Ok(WalletAnswer::Held(escrow_id)),
                    Err(WalletError::InsufficientFunds) => Ok(WalletAnswer::Declined),
                    Err(other) => Err(other),
                }
            }
            WalletCall::Release(settlement) => {
                let request = ReleaseEscrow {
                    escrow_id: escrow_id()?,
                    order_id: order.id,
                    seller_id: order.seller_id,
                    seller_amount: settlement.seller_amount(),
                    fee_amount: settlement.fee_amount(),
                    idempotency_key: key,
                };
                wallet
                    .release_escrow(request)
                    .await
                    .map(|()| WalletAnswer::Done)
            }
            WalletCall::Refund(settlement) => {
                let request = RefundEscrow {
                    escrow_id: escrow_id()?,
                    order_id: order.id,
                    buyer_id: order.buyer_id,
                    refund_amount: settlement.buyer_refund(),
                    seller_id: order.seller_id,
                    seller_amount: settlement.seller_amount(),
                    fee_amount: settlement.fee_amount(),
                    idempotency_key: key,
                };
                wallet
                    .refund_escrow(request)
                    .await
                    .map(|()| WalletAnswer::Done)
            }
        }
        .map_err(|error| match error {
            // Only a hold can be declined; anything else answering 402 is a refusal.
            WalletError::InsufficientFunds => WalletError::Rejected("402 on a payout".into()),
            other => other,
        })
    }

    /// Step (3): applies `answer` if `intent` is still the order's pending one (`true`);
    /// otherwise someone else finished it, and the order is answered as it now stands.
    async fn apply_answer(
        &self,
        order_id: OrderId,
        intent: &EscrowIntent,
        answer: WalletAnswer,
    ) -> Result<(Settled, bool), AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        let dispute = match &intent.purpose {
            EscrowPurpose::Resolution { dispute_id, .. } => uow.lock_dispute(*dispute_id).await?,
            _ => None,
        };
        if !order
            .escrow_intent
            .as_ref()
            .is_some_and(|pending| pending.is_same(intent))
        {
            return Ok((Settled { order, dispute }, false));
        }
        let finished = order.finish_intent(
            answer,
            dispute.as_ref(),
            &self.settings.terms(),
            self.ports.clock.now(),
        )?;
        uow.update_order(&finished.order, order.status).await?;
        if let (Some(changed), Some(before)) = (&finished.dispute, &dispute) {
            if changed != before {
                uow.update_dispute(changed).await?;
            }
        }
        let actor = intent.purpose.requester(&order);
        self.append_events(uow.as_mut(), &finished.events, actor, order.status)
            .await?;
        uow.commit().await?;
        let settled = Settled {
            order: finished.order,
            dispute: finished.dispute.or(dispute),
        };
        Ok((settled, true))
    }

    /// Drops `intent` after the Wallet refused it for good: the order is as before.
    async fn abandon(&self, order_id: OrderId, intent: &EscrowIntent) -> Result<(), AppError> {
        self.replace_intent(order_id, intent, |order| order.abandon_intent())
            .await
    }

    /// Lets go of `intent` after the Wallet could not be reached, so that the caller's
    /// retry — or the worker's next sweep — may carry it on at once, instead of being told
    /// it is in progress until `resume_at`.
    async fn let_go(&self, order_id: OrderId, intent: &EscrowIntent) -> Result<(), AppError> {
        let now = self.ports.clock.now();
        self.replace_intent(order_id, intent, |order| order.let_go_of_intent(now))
            .await
    }

    /// Stores `change` of the order if `intent` is still the one it waits on.
    async fn replace_intent(
        &self,
        order_id: OrderId,
        intent: &EscrowIntent,
        change: impl FnOnce(&Order) -> Order,
    ) -> Result<(), AppError> {
        let mut uow = self.begin().await?;
        let order = Self::lock_order(uow.as_mut(), order_id).await?;
        if order
            .escrow_intent
            .as_ref()
            .is_some_and(|pending| pending.is_same(intent))
        {
            uow.update_order(&change(&order), order.status).await?;
            uow.commit().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use order_domain::fixtures::{disputed_from, shipped};
    use order_ports::StoreError;

    use super::Settled;
    use crate::AppError;

    #[test]
    fn a_settled_resolution_answers_its_dispute() {
        let (order, dispute) = disputed_from(shipped());
        let settled = Settled {
            order,
            dispute: Some(dispute.clone()),
        };
        assert_eq!(settled.resolved_dispute().ok(), Some(dispute));
    }

    #[test]
    fn a_resolution_whose_dispute_vanished_is_the_stores_fault_not_a_404() {
        let settled = Settled {
            order: shipped(),
            dispute: None,
        };
        assert!(matches!(
            settled.resolved_dispute(),
            Err(AppError::Store(StoreError::Internal(_)))
        ));
    }
}
