//! Settling an order outside a dispute: `/api/v1/orders/{id}/refund/`, `…/release/`,
//! `…/settle/` and `…/extend/`, for its seller (a refund) and admins. A disputed order is
//! refused with 409 `order_disputed`: it is settled through its dispute.

use actix_web::post;
use chrono::{DateTime, Utc};
use order_domain::order::ActionReason;
use order_domain::Money;
use serde::Deserialize;
use utoipa::{PartialSchema, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{OrderPath, PathId, State};
use crate::auth::User;
use crate::command::{Command, FromBody};
use crate::error::ApiError;
use crate::openapi;
use crate::reply::Reply;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(refund)
        .service(release)
        .service(settle)
        .service(extend);
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reason": "Parcel lost by the carrier."}))]
struct ReasonBody {
    /// Why, for the order's history.
    #[schema(schema_with = <ActionReason as PartialSchema>::schema)]
    reason: String,
}

/// A reason, checked.
struct Reasoned(ActionReason);

impl FromBody for Reasoned {
    type Body = ReasonBody;

    fn from_body(body: ReasonBody) -> Result<Reasoned, ApiError> {
        Ok(Reasoned(ActionReason::parse(&body.reason)?))
    }
}

/// Refund an order in full.
///
/// The order's seller or an admin, with a `reason`: PAID, SHIPPED or DELIVERED → REFUNDED, the
/// whole escrow back to the buyer. Raises `order.refunded` with the settlement. Errors: 400,
/// 403 (the buyer too), 409 `invalid_transition` or `order_disputed` (settle it through the
/// dispute), 503 if the Wallet fails (nothing changes; a retry refunds once).
#[utoipa::path(
    operation_id = "refundOrder",
    tag = "orders",
    params(OrderPath),
    request_body = ReasonBody,
    responses((status = 200, description = "The refunded order", body = openapi::Order))
)]
#[post("/api/v1/orders/{id}/refund/")]
async fn refund(
    state: State,
    user: User,
    PathId(order_id): OrderPath,
    Command(Reasoned(reason)): Command<Reasoned>,
) -> Result<Reply, ApiError> {
    let order = state.service.refund(user.0, order_id, reason).await?;
    Ok(Reply::ok(state.order_json(&order, user.0)?))
}

/// Release an order's escrow to the seller.
///
/// An admin, with a `reason`: SHIPPED or DELIVERED → COMPLETED, the escrow released as the
/// buyer's confirmation would release it. Raises `order.completed` with the settlement.
/// Errors: 400, 403, 409 `invalid_transition` or `order_disputed`, 503 if the Wallet fails.
#[utoipa::path(
    operation_id = "releaseOrder",
    tag = "orders",
    params(OrderPath),
    request_body = ReasonBody,
    responses((status = 200, description = "The completed order", body = openapi::Order))
)]
#[post("/api/v1/orders/{id}/release/")]
async fn release(
    state: State,
    user: User,
    PathId(order_id): OrderPath,
    Command(Reasoned(reason)): Command<Reasoned>,
) -> Result<Reply, ApiError> {
    let order = state.service.release(user.0, order_id, reason).await?;
    Ok(Reply::ok(state.order_json(&order, user.0)?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"refund_amount": "30.00", "reason": "Arrived damaged; the buyer keeps it."}))]
struct SettleBody {
    /// What goes back to the buyer: more than 0, less than the order's total.
    #[schema(value_type = openapi::MoneyInput)]
    refund_amount: Money,
    /// Why, for the order's history.
    #[schema(schema_with = <ActionReason as PartialSchema>::schema)]
    reason: String,
}

struct Settle {
    refund_amount: Money,
    reason: ActionReason,
}

impl FromBody for Settle {
    type Body = SettleBody;

    fn from_body(body: SettleBody) -> Result<Settle, ApiError> {
        let reason = ActionReason::parse(&body.reason)?;
        Ok(Settle {
            refund_amount: body.refund_amount,
            reason,
        })
    }
}

/// Split an order's escrow.
///
/// An admin, with `refund_amount` and a `reason`: SHIPPED or DELIVERED → COMPLETED, the refund
/// back to the buyer and the rest to the seller less the fee on it, as a dispute's
/// PARTIAL_REFUND would split it. Raises `order.completed` with the settlement. Errors: 400
/// (the amount above 0 and below the total), 403, 409 `invalid_transition` or
/// `order_disputed`, 503 if the Wallet fails.
#[utoipa::path(
    operation_id = "settleOrder",
    tag = "orders",
    params(OrderPath),
    request_body = SettleBody,
    responses((status = 200, description = "The completed order", body = openapi::Order))
)]
#[post("/api/v1/orders/{id}/settle/")]
async fn settle(
    state: State,
    user: User,
    PathId(order_id): OrderPath,
    Command(settle): Command<Settle>,
) -> Result<Reply, ApiError> {
    let order = state
        .service
        .settle(user.0, order_id, settle.refund_amount, settle.reason)
        .await?;
    Ok(Reply::ok(state.order_json(&order, user.0)?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"ship_by": "2026-12-10T18:00:00Z", "reason": "The seller is travelling until Thursday."}))]
struct ExtendBody {
    /// The seller's new shipping deadline, while PAID.
    #[serde(default)]
    ship_by: Option<DateTime<Utc>>,
    /// The new automatic completion, while SHIPPED or DELIVERED.
    #[serde(default)]
    auto_complete_at: Option<DateTime<Utc>>,
    /// Why, for the order's history.
    #[schema(schema_with = <ActionReason as PartialSchema>::schema)]
    reason: String,
}

struct Extend {
    ship_by: Option<DateTime<Utc>>,
    auto_complete_at: Option<DateTime<Utc>>,
    reason: ActionReason,
}

impl FromBody for Extend {
    type Body = ExtendBody;

    fn from_body(body: ExtendBody) -> Result<Extend, ApiError> {
        Ok(Extend {
            ship_by: body.ship_by,
            auto_complete_at: body.auto_complete_at,
            reason: ActionReason::parse(&body.reason)?,
        })
    }
}

/// Extend an order's deadline.
///
/// An admin, with a `reason`: moves the running deadline later — `ship_by` while PAID,
/// `auto_complete_at` while SHIPPED or DELIVERED — never earlier and at most 30 days from now.
/// The status does not change. Raises `order.deadline_extended` with the old and new times.
/// Errors: 400, 403, 409 `invalid_transition` or `order_disputed`.
#[utoipa::path(
    operation_id = "extendOrderDeadline",
    tag = "orders",
    params(OrderPath),
    request_body = ExtendBody,
    responses((status = 200, description = "The order with its new deadline", body = openapi::Order))
)]
#[post("/api/v1/orders/{id}/extend/")]
async fn extend(
    state: State,
    user: User,
    PathId(order_id): OrderPath,
    Command(extend): Command<Extend>,
) -> Result<Reply, ApiError> {
    let order = state
        .service
        .extend(
            user.0,
            order_id,
            extend.ship_by,
            extend.auto_complete_at,
            extend.reason,
        )
        .await?;
    Ok(Reply::ok(state.order_json(&order, user.0)?))
}
