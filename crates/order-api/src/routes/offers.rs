//! `/api/v1/disputes/{id}/offers/`: the seller's settlement offers, and the buyer's answer.

use actix_web::post;
use order_domain::Money;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{DisputePath, OfferPath, PathId, State};
use crate::auth::User;
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::openapi;
use crate::reply::Reply;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(make).service(accept).service(decline);
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"refund_amount": "20.00"}))]
struct OfferBody {
    /// What the buyer would get back: more than 0, at most the order's total.
    #[schema(value_type = openapi::MoneyInput)]
    refund_amount: Money,
}

/// Offer the buyer a refund.
///
/// The disputed order's seller, while the dispute is OPEN, EVIDENCE or REVIEW: an offer of
/// `refund_amount` (above 0, at most the total), answered 201; a pending offer is withdrawn.
/// Raises `dispute.offer_made`. Errors: 400, 403, 409 when the dispute takes no offers, or
/// `operation_in_progress` while a payout is in flight.
#[utoipa::path(
    operation_id = "makeOffer",
    tag = "disputes",
    params(DisputePath),
    request_body = OfferBody,
    responses((status = 201, description = "The new offer, PENDING", body = openapi::Offer))
)]
#[post("/api/v1/disputes/{id}/offers/")]
async fn make(
    state: State,
    user: User,
    PathId(dispute_id): DisputePath,
    JsonBody(body): JsonBody<OfferBody>,
) -> Result<Reply, ApiError> {
    let offer = state
        .service
        .make_offer(user.0, dispute_id, body.refund_amount)
        .await?;
    let offer = serde_json::to_value(offer).map_err(ApiError::serializing)?;
    Ok(Reply::created(offer))
}

/// Accept a refund offer.
///
/// The disputed order's buyer: the pending offer resolves the dispute as an admin's
/// PARTIAL_REFUND (REFUND_BUYER for the whole total) would — the same money, statuses and
/// events (`dispute.resolved` with the order's `order.completed` or `order.refunded`), the
/// buyer as the one who decided. Errors: 403, 404, 409 `offer_not_pending` or
/// `operation_in_progress`, 503 if the Wallet fails (nothing changes; a retry moves the money
/// once).
#[utoipa::path(
    operation_id = "acceptOffer",
    tag = "disputes",
    params(DisputePath, OfferPath),
    responses((status = 200, description = "The resolved dispute", body = openapi::Dispute))
)]
#[post("/api/v1/disputes/{id}/offers/{offer_id}/accept/")]
async fn accept(
    state: State,
    user: User,
    PathId(dispute_id): DisputePath,
    PathId(offer_id): OfferPath,
) -> Result<Reply, ApiError> {
    let dispute = state
        .service
        .accept_offer(user.0, dispute_id, offer_id)
        .await?;
    Ok(Reply::ok(state.dispute_json(&dispute, user.0)?))
}

/// Decline a refund offer.
///
/// The disputed order's buyer: the pending offer is DECLINED and the dispute goes on. Raises
/// `dispute.offer_declined`. Errors: 403, 404, 409 `offer_not_pending`, or
/// `operation_in_progress` while a payout is in flight (this offer's acceptance among them).
#[utoipa::path(
    operation_id = "declineOffer",
    tag = "disputes",
    params(DisputePath, OfferPath),
    responses((status = 200, description = "The dispute, its offer declined", body = openapi::Dispute))
)]
#[post("/api/v1/disputes/{id}/offers/{offer_id}/decline/")]
async fn decline(
    state: State,
    user: User,
    PathId(dispute_id): DisputePath,
    PathId(offer_id): OfferPath,
) -> Result<Reply, ApiError> {
    let dispute = state
        .service
        .decline_offer(user.0, dispute_id, offer_id)
        .await?;
    Ok(Reply::ok(state.dispute_json(&dispute, user.0)?))
}
