//! `/api/v1/orders/internal/…`: what other services tell this one.

use actix_web::{get, post, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use order_app::{AuctionWin, Caller};
use order_domain::order::{CancellationReason, ShippingAddress};
use order_domain::{EscrowId, ListingId, Money, OrderId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{PartialSchema, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::State;
use crate::auth::Service;
use crate::command::{Command, FromBody};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::openapi;
use crate::query::Params;
use crate::reply::Reply;
use crate::representation::{EventFeed, FeedEventView};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(events)
        .service(create)
        .service(mark_paid)
        .service(cancel)
        .service(mark_delivered)
        .service(erase_user);
}

/// Read the replay feed.
///
/// A service: every event of every order in one total order, each once, each order's in its
/// sequence, even while changes commit. Page with `after = next_after`. Changes nothing.
/// Errors: 400 for `after` or `limit`, 401, 403 for a user.
#[utoipa::path(
    operation_id = "readEventFeed",
    tag = "internal",
    params(
        ("after" = Option<u64>, Query, minimum = 0, description = "The last position seen; 0 (the default) for the start"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "Default 100"),
    ),
    responses((status = 200, description = "The events after `after`", body = openapi::EventFeed))
)]
#[get("/api/v1/orders/internal/events/")]
async fn events(
    state: State,
    _service: Service,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut params = Params::parse(req.query_string())?;
    // Positions are BIGINTs: none lies past i64::MAX, and the document says int64.
    let last_position = i64::MAX as u64;
    let after = params
        .one("after")?
        .map(|value| value.parse::<u64>())
        .transpose()
        .ok()
        .map(|after| after.unwrap_or(0))
        .filter(|after| *after <= last_position)
        .ok_or_else(|| {
            ApiError::field(
                "after",
                format!("Enter a whole number from 0 to {last_position}."),
            )
        })?;
    let limit = params
        .one("limit")?
        .map(|value| value.parse::<u32>())
        .transpose()
        .ok()
        .map(|limit| limit.unwrap_or(100))
        .filter(|limit| (1..=500).contains(limit))
        .ok_or_else(|| ApiError::field("limit", "Enter a whole number from 1 to 500."))?;
    params.finish()?;
    let events = state.service.feed(Caller::Service, after, limit).await?;
    let next_after = events.last().map_or(after, |event| event.position);
    Ok(HttpResponse::Ok().json(EventFeed {
        results: events.iter().map(FeedEventView::from).collect(),
        next_after,
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"listing_id": "7c1e4d2a-0b7e-4c55-9d1a-2f4b8e6a1c01", "buyer_id": "2a9d6c1e-5b3f-4e8a-9c7d-1e2f3a4b5c6d", "seller_id": "5e8f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "amount": "125.00", "shipping_cost": "10.00", "shipping_address": {"name": "Alice Martin", "line1": "12 rue de la Paix", "city": "Lyon", "postal_code": "69002", "country": "FR"}}))]
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

struct Create(AuctionWin);

impl FromBody for Create {
    type Body = CreateBody;

    fn from_body(body: CreateBody) -> Result<Create, ApiError> {
        Ok(Create(AuctionWin {
            listing_id: body.listing_id,
            buyer_id: body.buyer_id,
            seller_id: body.seller_id,
            amount: body.amount,
            shipping_cost: body.shipping_cost.unwrap_or(Money::ZERO),
            shipping_address: body.shipping_address.unwrap_or_default(),
        }))
    }
}

/// Create an auction's order.
///
/// The auction service, for a won auction: the order PENDING_PAYMENT with its fee fixed and
/// `pay_by` set (201). The same content again answers the existing order (200). Raises
/// `order.created`. Errors: 400 (buyer and seller differ, amount above 0), 401, 403 for a
/// user, 409 `order_exists` for other content on the listing.
#[utoipa::path(
    operation_id = "createAuctionOrder",
    tag = "internal",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The new order", body = openapi::Order),
        (status = 200, description = "The order this same request created before", body = openapi::Order),
    )
)]
#[post("/api/v1/orders/internal/create/")]
async fn create(
    state: State,
    _service: Service,
    command: Command<Create>,
) -> Result<Reply, ApiError> {
    let Command(Create(win)) = command;
    let placed = state
        .service
        .create_auction_order(Caller::Service, win)
        .await?;
    Ok(Reply::placed(
        placed.created,
        state.order_json(&placed.order, Caller::Service)?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"order_id": "0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b", "escrow_id": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}))]
struct MarkPaidBody {
    #[schema(value_type = uuid::Uuid)]
    order_id: OrderId,
    #[schema(value_type = uuid::Uuid)]
    escrow_id: EscrowId,
}

/// Mark an order paid.
///
/// The payment flow, once the Wallet holds the escrow: PENDING_PAYMENT → PAID with
/// `escrow_id`. The same escrow again answers the order unchanged. Raises `order.paid`.
/// Errors: 400, 401, 403 for a user, 404, 409 `escrow_mismatch` or `order_cancelled` (the
/// payer's side must return the money).
#[utoipa::path(
    operation_id = "markOrderPaid",
    tag = "internal",
    request_body = MarkPaidBody,
    responses((status = 200, description = "The paid order", body = openapi::Order))
)]
#[post("/api/v1/orders/internal/mark-paid/")]
async fn mark_paid(
    state: State,
    _service: Service,
    body: JsonBody<MarkPaidBody>,
) -> Result<Reply, ApiError> {
    let JsonBody(paid) = body;
    let order = state
        .service
        .mark_paid(Caller::Service, paid.order_id, paid.escrow_id)
        .await?;
    Ok(Reply::ok(state.order_json(&order, Caller::Service)?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"order_id": "0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b", "reason": "The winner did not pay within the payment window."}))]
struct CancelUnpaidBody {
    #[schema(value_type = uuid::Uuid)]
    order_id: OrderId,
    #[schema(schema_with = <CancellationReason as PartialSchema>::schema)]
    reason: String,
}

struct CancelUnpaid {
    order_id: OrderId,
    reason: CancellationReason,
}

impl FromBody for CancelUnpaid {
    type Body = CancelUnpaidBody;

    fn from_body(body: CancelUnpaidBody) -> Result<CancelUnpaid, ApiError> {
        Ok(CancelUnpaid {
            order_id: body.order_id,
            reason: CancellationReason::parse(&body.reason)?,
        })
    }
}

/// Cancel an unpaid order.
///
/// The auction service, for a winner who did not pay: PENDING_PAYMENT → CANCELLED with a
/// `reason`. Raises `order.cancelled`. Errors: 400, 401, 403 for a user, 404, 409
/// `invalid_transition`.
#[utoipa::path(
    operation_id = "cancelUnpaidOrder",
    tag = "internal",
    request_body = CancelUnpaidBody,
    responses((status = 200, description = "The cancelled order", body = openapi::Order))
)]
#[post("/api/v1/orders/internal/cancel/")]
async fn cancel(
    state: State,
    _service: Service,
    command: Command<CancelUnpaid>,
) -> Result<Reply, ApiError> {
    let Command(cancel) = command;
    let order = state
        .service
        .cancel(Caller::Service, cancel.order_id, cancel.reason)
        .await?;
    Ok(Reply::ok(state.order_json(&order, Caller::Service)?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"order_id": "0193a1b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b", "delivered_at": "2026-12-04T09:30:00Z"}))]
struct MarkDeliveredBody {
    #[schema(value_type = uuid::Uuid)]
    order_id: OrderId,
    /// When the carrier delivered (default: now); not before shipping, not in the future.
    #[serde(default)]
    delivered_at: Option<DateTime<Utc>>,
}

/// Mark an order delivered.
///
/// The carrier integration: SHIPPED → DELIVERED at `delivered_at` (default now), the
/// auto-completion brought forward to the delivery window if that is sooner. Raises
/// `order.delivered`. Errors: 400 (not before shipping, not in the future), 401, 403 for a
/// user, 404, 409 `invalid_transition`.
#[utoipa::path(
    operation_id = "markOrderDelivered",
    tag = "internal",
    request_body = MarkDeliveredBody,
    responses((status = 200, description = "The delivered order", body = openapi::Order))
)]
#[post("/api/v1/orders/internal/mark-delivered/")]
async fn mark_delivered(
    state: State,
    _service: Service,
    body: JsonBody<MarkDeliveredBody>,
) -> Result<Reply, ApiError> {
    let JsonBody(delivered) = body;
    let order = state
        .service
        .mark_delivered(Caller::Service, delivered.order_id, delivered.delivered_at)
        .await?;
    Ok(Reply::ok(state.order_json(&order, Caller::Service)?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"user_id": "2a9d6c1e-5b3f-4e8a-9c7d-1e2f3a4b5c6d"}))]
struct EraseUserBody {
    /// The user whose personal data is to be erased, as buyer and as seller.
    #[schema(value_type = uuid::Uuid)]
    user_id: UserId,
}

/// Where a user's orders stand once their erasure was asked for.
#[derive(Serialize, ToSchema)]
struct ErasureAccepted {
    /// Their orders whose personal data is erased: the ended ones, now or before.
    erased: u64,
    /// Their orders still open, whose address is needed until they end: each is erased as
    /// soon as it has ended, the request remembered on the order (a restart keeps it).
    pending: u64,
}

/// Erase a user's personal data.
///
/// The user service, when an account is deleted: the ended orders where the user is buyer or
/// seller lose their address and free texts at once — in the orders, their disputes,
/// histories, stored events and saved answers — and their open orders as soon as each ends.
/// Amounts, statuses, times and settlements are kept. Answers 202 with where the orders stand;
/// asking again changes nothing more. Raises `order.personal_data_erased` for each order
/// erased. Errors: 400 for `user_id`, 401, 403 for a user.
#[utoipa::path(
    operation_id = "eraseUserPersonalData",
    tag = "internal",
    request_body = EraseUserBody,
    responses((status = 202, description = "Erased what has ended; the rest is pending", body = ErasureAccepted))
)]
#[post("/api/v1/orders/internal/erase-user/")]
async fn erase_user(
    state: State,
    _service: Service,
    body: JsonBody<EraseUserBody>,
) -> Result<Reply, ApiError> {
    let JsonBody(body) = body;
    let outcome = state.erasure().user(body.user_id).await?;
    let accepted = ErasureAccepted {
        erased: outcome.orders.erased,
        pending: outcome.orders.pending,
    };
    Ok(Reply::accepted(
        serde_json::to_value(accepted).map_err(ApiError::serializing)?,
    ))
}
