//! Erasing orders' personal data everywhere this service keeps it: the orders, their
//! disputes and stored events (the use cases), and the answers saved for replay under an
//! `Idempotency-Key`, which only this HTTP edge keeps.
//!
//! The answers come second: an answer is a replay of a request about the order, and while
//! the order is open a retried request must get its answer as it was. Should the process
//! stop between the two, the answers still expire with their keys (a day).

use chrono::TimeDelta;
use order_app::{AppError, ErasureOutcome, ErasureRound, OrderService, UserErasureOutcome};
use order_domain::{OrderId, UserId};
use order_postgres::IdempotencyKeys;

/// The erasure's two stores: the use cases' and the saved answers.
#[derive(Clone, Copy)]
pub struct Erasure<'a> {
    pub service: &'a OrderService,
    pub idempotency: &'a IdempotencyKeys,
}

impl Erasure<'_> {
    /// Erases order `id`'s personal data if it has ended, then rewrites the saved answers
    /// that show it.
    pub async fn order(self, id: OrderId) -> Result<ErasureOutcome, AppError> {
        let outcome = self.service.erase_personal_data(id).await?;
        if outcome != ErasureOutcome::NotEnded {
            rewrite_answers(self.idempotency, &[id]).await?;
        }
        Ok(outcome)
    }

    /// One round of the erasure worker (see [`OrderService::erase_due`]), then the saved
    /// answers about the orders it erased.
    pub async fn due(self, retention: TimeDelta, limit: usize) -> Result<ErasureRound, AppError> {
        let round = self.service.erase_due(retention, limit).await?;
        rewrite_answers(self.idempotency, &round.erased).await?;
        Ok(round)
    }

    /// A user's request to be erased (see [`OrderService::erase_user`]), then the saved
    /// answers about the orders it erased.
    pub async fn user(self, user: UserId) -> Result<UserErasureOutcome, AppError> {
        let outcome = self.service.erase_user(user).await?;
        for ids in outcome.erased_now.chunks(order_app::ERASURE_BATCH) {
            rewrite_answers(self.idempotency, ids).await?;
        }
        Ok(outcome)
    }
}

async fn rewrite_answers(
    idempotency: &IdempotencyKeys,
    orders: &[OrderId],
) -> Result<(), AppError> {
    let ids: Vec<uuid::Uuid> = orders.iter().map(|id| *id.as_uuid()).collect();
    idempotency
        .rewrite_answers_mentioning(&ids, order_events::erase_personal_fields)
        .await?;
    Ok(())
}
