//! What a seller or an admin does to settle an order outside a dispute: refund it, release
//! or split its escrow, move a deadline. Who may, from which status and with which money is
//! the domain's (`order-domain/src/order/operator.rs`); here the caller is checked — 404 for
//! who cannot see the order, 403 for who sees it but may not — and the money driver moves
//! the money.

use chrono::{DateTime, Utc};
use order_domain::order::ActionReason;
use order_domain::{Money, Order, OrderId, Parties, SellerOrAdmin};

use crate::{AppError, Caller, OrderService};

impl Caller {
    /// The caller as an admin, or else as the order's seller.
    fn seller_or_admin(&self, order: &Order) -> Result<SellerOrAdmin, AppError> {
        match self.as_admin() {
            Some(admin) => Ok(SellerOrAdmin::Admin(admin)),
            None => self
                .acting_as(order, Order::seller)
                .map(SellerOrAdmin::Seller),
        }
    }

    /// The caller as an admin: 404 for who cannot see the order, 403 for a party.
    fn admin_over(&self, order: &Order) -> Result<order_domain::Admin, AppError> {
        self.require_sees_order(order)?;
        self.require_admin()
    }
}

impl OrderService {
    /// PAID/SHIPPED/DELIVERED → REFUNDED by its seller or an admin: the whole escrow goes
    /// back to the buyer (Wallet key `order-{id}-refund`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn refund(
        &self,
        caller: Caller,
        order_id: OrderId,
        reason: ActionReason,
    ) -> Result<Order, AppError> {
        self.move_money(order_id, |order, now, resume_after| {
            let by = caller.seller_or_admin(order)?;
            Ok(order.request_refund(by, reason, now, resume_after)?)
        })
        .await
    }

    /// SHIPPED/DELIVERED → COMPLETED by an admin: the escrow is released as a completion
    /// would release it (the order's one release key, `order-{id}-release`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn release(
        &self,
        caller: Caller,
        order_id: OrderId,
        reason: ActionReason,
    ) -> Result<Order, AppError> {
        self.move_money(order_id, |order, now, resume_after| {
            let admin = caller.admin_over(order)?;
            Ok(order.request_release(admin, reason, now, resume_after)?)
        })
        .await
    }

    /// SHIPPED/DELIVERED → COMPLETED by an admin: `refund_amount` back to the buyer, the rest
    /// to the seller less the fee (Wallet key `order-{id}-settle`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn settle(
        &self,
        caller: Caller,
        order_id: OrderId,
        refund_amount: Money,
        reason: ActionReason,
    ) -> Result<Order, AppError> {
        let fee_rate = self.settings.fee_rate;
        self.move_money(order_id, |order, now, resume_after| {
            let admin = caller.admin_over(order)?;
            Ok(order.request_settlement(
                admin,
                refund_amount,
                reason,
                fee_rate,
                now,
                resume_after,
            )?)
        })
        .await
    }

    /// An admin moves the running deadline of an order later: `ship_by` while PAID,
    /// `auto_complete_at` while SHIPPED or DELIVERED. Raises `order.deadline_extended`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn extend(
        &self,
        caller: Caller,
        order_id: OrderId,
        ship_by: Option<DateTime<Utc>>,
        auto_complete_at: Option<DateTime<Utc>>,
        reason: ActionReason,
    ) -> Result<Order, AppError> {
        self.change_order(order_id, |order, now| {
            let admin = caller.admin_over(order)?;
            let changed = order.extend(admin, ship_by, auto_complete_at, reason, now)?;
            Ok(Some((changed, admin.into())))
        })
        .await
    }
}
