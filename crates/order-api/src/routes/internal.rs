//! `/api/v1/orders/internal/…`: what other services tell this one.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use order_app::{AuctionWin, Caller};
use order_domain::order::{CancellationReason, ShippingAddress};
use order_domain::{EscrowId, ListingId, Money, OrderId, UserId};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{idempotency_scope, Service};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::openapi;
use crate::query::Params;
use crate::reply::{idempotent, Reply};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(events)
        .service(create)
        .service(mark_paid)
        .service(cancel)
        .service(mark_delivered);
}

/// The replay feed: every event of every order in one total order, each once, each
/// order's in its sequence, even while changes commit. Page with `after = next_after`.
#[utoipa::path(
    tag = "internal",
    params(
        ("after" = Option<u64>, Query, minimum = 0, description = "The last position seen; 0 (the default) for the start"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "Default 100"),
    ),
    responses((status = 200, description = "The events after `after`", body = openapi::EventFeed)),
    security(("serviceToken" = []))
)]
#[get("/api/v1/orders/internal/events/")]
async fn events(
    state: web::Data<AppState>,
    _service: Service,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut params = Params::parse(req.query_string())?;
    let whole = |name: &'static str, message: &'static str| {
        move |value: String| {
            value
                .parse::<u64>()
                .map_err(|_| ApiError::field(name, message))
        }
    };
    let after = params
        .one("after")?
        .map(whole("after", "Enter a whole number, 0 or more."))
        .transpose()?
        .unwrap_or(0);
    let limit = params
        .one("limit")?
        .map(whole("limit", "Enter a whole number from 1 to 500."))
        .transpose()?
        .unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            "Enter a whole number from 1 to 500.",
        ));
    }
    params.finish()?;
    let limit = u32::try_from(limit).expect("at most 500");
    let events = state.service.feed(Caller::Service, after, limit).await?;
    let next_after = events.last().map_or(after, |event| event.position);
    let results: Vec<_> = events
        .iter()
        .map(|event| {
            json!({
                "position": event.position,
                "event_id": event.event_id,
                "event_type": event.event_type.as_str(),
                "order_id": event.order_id,
                "sequence": event.sequence,
                "occurred_at": event.occurred_at,
                "detail": serde_json::from_str::<serde_json::Value>(&event.payload)
                    .map(without_admin_notes)
                    .unwrap_or(serde_json::Value::Null),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"results": results, "next_after": next_after})))
}

/// Events written by earlier versions kept the admin's notes in the outbox; the feed shows
/// them as every event now has them: null.
fn without_admin_notes(mut detail: serde_json::Value) -> serde_json::Value {
    if let Some(notes) = detail
        .get_mut("dispute")
        .and_then(|dispute| dispute.get_mut("admin_notes"))
    {
        *notes = serde_json::Value::Null;
    }
    detail
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
        let json = state.order_json(&placed.order, Caller::Service);
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
        Ok(Reply::ok(state.order_json(&order, Caller::Service)))
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
        Ok(Reply::ok(state.order_json(&order, Caller::Service)))
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
        Ok(Reply::ok(state.order_json(&order, Caller::Service)))
    })
    .await
}
