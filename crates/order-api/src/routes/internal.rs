//! `/api/v1/orders/internal/…`: what other services tell this one.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use order_app::{AuctionWin, Caller};
use order_domain::order::{CancellationReason, ShippingAddress};
use order_domain::{EscrowId, ListingId, Money, OrderId, UserId};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{idempotency_scope, Service};
use crate::json::JsonBody;
use crate::openapi;
use crate::reply::{idempotent, Reply};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(mark_paid)
        .service(cancel)
        .service(mark_delivered);
}

fn scope(service: &Service) -> String {
    idempotency_scope(&Caller::Service, Some(service.token_index))
}

#[derive(Deserialize, ToSchema)]
struct CreateBody {
    #[schema(value_type = uuid::Uuid)]
    listing_id: ListingId,
    #[schema(value_type = uuid::Uuid)]
    buyer_id: UserId,
    #[schema(value_type = uuid::Uuid)]
    seller_id: UserId,
    #[schema(value_type = openapi::MoneyInput)]
    amount: Money,
    #[serde(default)]
    #[schema(value_type = Option<openapi::MoneyInput>)]
    shipping_cost: Option<Money>,
    #[serde(default)]
    #[schema(value_type = Option<openapi::ShippingAddress>)]
    shipping_address: Option<ShippingAddress>,
}

/// An auction's winner: creates the order PENDING_PAYMENT. The same content again answers
/// the existing order (200); other content for the listing conflicts (409).
#[utoipa::path(
    tag = "internal",
    params(super::IdempotencyKey),
    request_body = CreateBody,
    responses(
        (status = 201, description = "The new order", body = openapi::Order),
        (status = 200, description = "The order this same request created before", body = openapi::Order),
    ),
    security(("serviceToken" = []))
)]
#[post("/api/v1/orders/internal/create/")]
async fn create(
    state: web::Data<AppState>,
    service: Service,
    req: HttpRequest,
    body: JsonBody<CreateBody>,
) -> HttpResponse {
    idempotent(&state, &req, scope(&service), &body.raw, async {
        let body = &body.value;
        let win = AuctionWin {
            listing_id: body.listing_id,
            buyer_id: body.buyer_id,
            seller_id: body.seller_id,
            amount: body.amount,
            shipping_cost: body.shipping_cost.unwrap_or(Money::ZERO),
            shipping_address: body.shipping_address.clone().unwrap_or_default(),
        };
        let placed = state
            .service
            .create_auction_order(Caller::Service, win)
            .await?;
        let json = state.order_json(&placed.order);
        Ok(if placed.created {
            Reply::created(json)
        } else {
            Reply::ok(json)
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
struct MarkPaidBody {
    #[schema(value_type = uuid::Uuid)]
    order_id: OrderId,
    #[schema(value_type = uuid::Uuid)]
    escrow_id: EscrowId,
}

/// PENDING_PAYMENT → PAID through the escrow the Wallet holds. The same escrow again
/// answers the order unchanged; another escrow conflicts.
#[utoipa::path(
    tag = "internal",
    params(super::IdempotencyKey),
    request_body = MarkPaidBody,
    responses((status = 200, description = "The paid order", body = openapi::Order)),
    security(("serviceToken" = []))
)]
#[post("/api/v1/orders/internal/mark-paid/")]
async fn mark_paid(
    state: web::Data<AppState>,
    service: Service,
    req: HttpRequest,
    body: JsonBody<MarkPaidBody>,
) -> HttpResponse {
    idempotent(&state, &req, scope(&service), &body.raw, async {
        let order = state
            .service
            .mark_paid(Caller::Service, body.value.order_id, body.value.escrow_id)
            .await?;
        Ok(Reply::ok(state.order_json(&order)))
    })
    .await
}

#[derive(Deserialize, ToSchema)]
struct CancelBody {
    #[schema(value_type = uuid::Uuid)]
    order_id: OrderId,
    /// 1–500 characters.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

/// PENDING_PAYMENT → CANCELLED (an auction winner who never paid).
#[utoipa::path(
    tag = "internal",
    params(super::IdempotencyKey),
    request_body = CancelBody,
    responses((status = 200, description = "The cancelled order", body = openapi::Order)),
    security(("serviceToken" = []))
)]
#[post("/api/v1/orders/internal/cancel/")]
async fn cancel(
    state: web::Data<AppState>,
    service: Service,
    req: HttpRequest,
    body: JsonBody<CancelBody>,
) -> HttpResponse {
    idempotent(&state, &req, scope(&service), &body.raw, async {
        let reason = CancellationReason::parse(&body.value.reason)?;
        let order = state
            .service
            .cancel(Caller::Service, body.value.order_id, reason)
            .await?;
        Ok(Reply::ok(state.order_json(&order)))
    })
    .await
}

#[derive(Deserialize, ToSchema)]
struct MarkDeliveredBody {
    #[schema(value_type = uuid::Uuid)]
    order_id: OrderId,
    /// When the carrier delivered (default: now); not before shipping, not in the future.
    #[serde(default)]
    delivered_at: Option<DateTime<Utc>>,
}

/// SHIPPED → DELIVERED, on the carrier's confirmation.
#[utoipa::path(
    tag = "internal",
    params(super::IdempotencyKey),
    request_body = MarkDeliveredBody,
    responses((status = 200, description = "The delivered order", body = openapi::Order)),
    security(("serviceToken" = []))
)]
#[post("/api/v1/orders/internal/mark-delivered/")]
async fn mark_delivered(
    state: web::Data<AppState>,
    service: Service,
    req: HttpRequest,
    body: JsonBody<MarkDeliveredBody>,
) -> HttpResponse {
    idempotent(&state, &req, scope(&service), &body.raw, async {
        let order = state
            .service
            .mark_delivered(
                Caller::Service,
                body.value.order_id,
                body.value.delivered_at,
            )
            .await?;
        Ok(Reply::ok(state.order_json(&order)))
    })
    .await
}
