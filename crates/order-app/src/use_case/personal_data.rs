//! Erasing an ended order's personal data everywhere the store keeps it.

use order_domain::personal::Erasure;
use order_domain::{Actor, OrderId};
use order_events::erase_personal_fields;
use order_ports::StoreError;

use crate::{AppError, OrderService};

/// What asking to erase an order's personal data came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErasureOutcome {
    /// Erased now.
    Erased,
    /// Erased before: nothing more to do.
    AlreadyErased,
    /// The order has not ended: its address is still needed. Nothing changed.
    NotEnded,
}

impl OrderService {
    /// Erases the personal data of order `id` if it has ended — in the order, its dispute,
    /// and every stored event document and history entry of it — and announces it with
    /// `order.personal_data_erased`, all in one unit of work. Amounts, statuses, times,
    /// settlements and every event's place in the history and the replay feed are kept.
    pub async fn erase_personal_data(&self, id: OrderId) -> Result<ErasureOutcome, AppError> {
        let now = self.ports.clock.now();
        let mut uow = self.begin().await?;
        let order = uow.lock_order(id).await?.ok_or(AppError::NotFound)?;
        let changed = match order.erase_personal_data(now) {
            Erasure::Erased(changed) => *changed,
            Erasure::AlreadyErased => return Ok(ErasureOutcome::AlreadyErased),
            Erasure::NotEnded => return Ok(ErasureOutcome::NotEnded),
        };
        if let Some(summary) = order.dispute {
            if let Some(dispute) = uow.lock_dispute(summary.id).await? {
                uow.update_dispute(&dispute.erase_personal_data()).await?;
            }
        }
        for mut document in uow.order_documents(id).await? {
            let mut payload: serde_json::Value =
                serde_json::from_str(&document.payload).map_err(|error| {
                    StoreError::Internal(format!(
                        "the stored document of event {} is not JSON: {error}",
                        document.event_id
                    ))
                })?;
            let in_payload = erase_personal_fields(&mut payload);
            let in_details = erase_personal_fields(&mut document.details);
            if in_payload || in_details {
                document.payload = payload.to_string();
                uow.replace_document(&document).await?;
            }
        }
        self.store_change(uow.as_mut(), order.status, changed, Actor::System)
            .await?;
        uow.commit().await?;
        Ok(ErasureOutcome::Erased)
    }
}
