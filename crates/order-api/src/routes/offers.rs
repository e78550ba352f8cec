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
struct OfferBody {
    /// What the buyer would get back: more than 0, at most the order's total.
    #[schema(value_type = openapi::MoneyInput)]
    refund_amount: Money,
}

/// The order's seller offers the buyer a refund, while the dispute is OPEN, EVIDENCE or
/// REVIEW; a pending offer is withdrawn. Raises `dispute.offer_made`.
#[utoipa::path(
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

/// The order's buyer accepts the pending offer: the dispute is resolved as an admin's
/// PARTIAL_REFUND with its amount (REFUND_BUYER for the whole total) would resolve it — the
/// same money, statuses and events, the buyer as the one who decided. 409
/// `offer_not_pending` for an offer already decided.
#[utoipa::path(
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

/// The order's buyer declines the pending offer. Raises `dispute.offer_declined`.
#[utoipa::path(
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
