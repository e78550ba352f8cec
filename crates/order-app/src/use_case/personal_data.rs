//! Erasing ended orders' personal data everywhere the store keeps it: one order on demand,
//! the orders whose retention has passed or whose erasure a party asked for (the worker's
//! round), and a user's orders on their request.

use chrono::{DateTime, TimeDelta};
use order_domain::personal::{Erasure, ErasureDue};
use order_domain::{Actor, Changed, Order, OrderId, UserId};
use order_events::erase_personal_fields;
use order_ports::store::UserErasure;
use order_ports::{StoreError, UnitOfWork};

use super::Swept;
use crate::{AppError, OrderService};

/// Orders a unit of work of the erasure erases at most.
pub const ERASURE_BATCH: usize = 100;

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

/// What one round of the erasure worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErasureRound {
    /// The orders it erased.
    pub erased: Vec<OrderId>,
    /// Orders that had ended before their end was recorded, recorded now.
    pub ends_recorded: u64,
    /// Orders the store claimed as erasable that the domain would not erase (the two
    /// disagree: a bug), each logged and left alone.
    pub refused: usize,
}

/// What a user's request to be erased came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserErasureOutcome {
    /// The user's ended orders erased by this request.
    pub erased_now: Vec<OrderId>,
    /// Where all the user's orders stand now.
    pub orders: UserErasure,
}

impl OrderService {
    /// Erases the personal data of order `id` if it has ended — in the order, its dispute,
    /// and every stored event document and history entry of it — and announces it with
    /// `order.personal_data_erased`, all in one unit of work. Amounts, statuses, times,
    /// settlements and every event's place in the history and the replay feed are kept.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn erase_personal_data(&self, id: OrderId) -> Result<ErasureOutcome, AppError> {
        let now = self.ports.clock.now();
        let mut uow = self.begin().await?;
        let order = uow.lock_order(id).await?.ok_or(AppError::NotFound)?;
        let changed = match order.erase_personal_data(now) {
            Erasure::Erased(changed) => *changed,
            Erasure::AlreadyErased => return Ok(ErasureOutcome::AlreadyErased),
            Erasure::NotEnded => return Ok(ErasureOutcome::NotEnded),
        };
        self.store_erasure(uow.as_mut(), &order, changed).await?;
        uow.commit().await?;
        Ok(ErasureOutcome::Erased)
    }

    /// One round of the erasure worker: records the end of up to `limit` orders that ended
    /// before ends were recorded, then erases up to `limit` orders whose erasure a party
    /// asked for and up to `limit` whose `retention` has passed since they ended. Replicas
    /// running it at once erase different orders.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn erase_due(
        &self,
        retention: TimeDelta,
        limit: usize,
    ) -> Result<ErasureRound, AppError> {
        let ends_recorded = self.ports.store.backfill_ended_at(limit).await?;
        let now = self.ports.clock.now();
        let ended_before = now
            .checked_sub_signed(retention)
            .unwrap_or(DateTime::<chrono::Utc>::MIN_UTC);
        let requested = self.erase_claimed(ErasureDue::Requested, limit).await?;
        let retained = self
            .erase_claimed(ErasureDue::RetentionPassed { ended_before }, limit)
            .await?;
        Ok(ErasureRound {
            refused: requested.refused.len() + retained.refused.len(),
            erased: [requested.done, retained.done].concat(),
            ends_recorded,
        })
    }

    /// `user` asks for their personal data to be erased: their ended orders (as buyer or
    /// seller) are erased now, and every other order of theirs is marked, durably, to be
    /// erased as soon as it ends (by [`OrderService::erase_due`]). Asking again changes
    /// nothing more.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn erase_user(&self, user: UserId) -> Result<UserErasureOutcome, AppError> {
        let mut uow = self.begin().await?;
        uow.request_erasure(user, self.ports.clock.now()).await?;
        uow.commit().await?;
        let mut erased_now = Vec::new();
        // Until a batch erases nothing: a short batch does not mean the last, as the claim
        // leaves out an order a worker erased while the claim waited for it. A batch of
        // refused orders only erases nothing too, so this ends; the worker tries them again.
        loop {
            let batch = self
                .erase_claimed(ErasureDue::PartyIs(user), ERASURE_BATCH)
                .await?
                .done;
            if batch.is_empty() {
                break;
            }
            erased_now.extend(batch);
        }
        let orders = self.ports.store.erasure_of(user).await?;
        Ok(UserErasureOutcome { erased_now, orders })
    }

    /// Claims up to `limit` orders due under `due` and erases them, in one unit of work.
    async fn erase_claimed(
        &self,
        due: ErasureDue,
        limit: usize,
    ) -> Result<Swept<OrderId>, AppError> {
        let now = self.ports.clock.now();
        let mut uow = self.begin().await?;
        let claimed = uow.claim_erasable_orders(due, limit).await?;
        let mut erased = Vec::with_capacity(claimed.len());
        let mut refused = Vec::new();
        for order in claimed {
            // The claim takes exactly what the domain calls erasable; were the two to
            // disagree (a bug), the order is logged and left alone, the rest go on.
            match order.erase_personal_data(now) {
                Erasure::Erased(changed) => {
                    self.store_erasure(uow.as_mut(), &order, *changed).await?;
                    erased.push(order.id);
                }
                answer @ (Erasure::AlreadyErased | Erasure::NotEnded) => {
                    tracing::error!(
                        order_id = %order.id, ?answer, ?due,
                        "the store found an order erasable that the domain does not erase; left alone"
                    );
                    refused.push(order.id);
                }
            }
        }
        uow.commit().await?;
        Ok(Swept {
            done: erased,
            refused,
        })
    }

    /// Stores `order`'s erasure: the order, its dispute, and every stored event document
    /// and history entry of it.
    async fn store_erasure(
        &self,
        uow: &mut dyn UnitOfWork,
        order: &Order,
        changed: Changed<Order>,
    ) -> Result<(), AppError> {
        if let Some(summary) = order.dispute {
            if let Some(dispute) = uow.lock_dispute(summary.id).await? {
                uow.update_dispute(&dispute.erase_personal_data()).await?;
            }
        }
        for mut document in uow.order_documents(order.id).await? {
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
        self.store_change(uow, order.status, changed, Actor::System)
            .await?;
        Ok(())
    }
}
