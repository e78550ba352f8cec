//! Erasing an order's personal data everywhere this service keeps it: the order, its
//! dispute and stored events (the use case), and the answers saved for replay under an
//! `Idempotency-Key`, which only this HTTP edge keeps.

use order_app::{AppError, ErasureOutcome, OrderService};
use order_domain::OrderId;
use order_postgres::IdempotencyKeys;

/// Erases order `id`'s personal data if it has ended, then rewrites the saved answers that
/// show it. The answers come second: an answer is a replay of a request about the order,
/// and while the order is open a retried request must get its answer as it was. Should
/// the process stop between the two, the answers still expire with their keys (a day).
pub async fn erase_order(
    service: &OrderService,
    idempotency: &IdempotencyKeys,
    id: OrderId,
) -> Result<ErasureOutcome, AppError> {
    let outcome = service.erase_personal_data(id).await?;
    if outcome != ErasureOutcome::NotEnded {
        idempotency
            .rewrite_answers_mentioning(&id.to_string(), order_events::erase_personal_fields)
            .await?;
    }
    Ok(outcome)
}
