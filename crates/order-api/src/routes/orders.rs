//! `/api/v1/orders/`: reading orders, and what buyers and sellers do to them.

use actix_web::{get, post, HttpRequest, HttpResponse};
use order_app::Purchase;
use order_domain::dispute::{DisputeReason, EvidenceUrl};
use order_domain::order::{CancellationReason, Carrier, Party, ShippingAddress, TrackingNumber};
use order_domain::{ListingId, OrderStatus, UserId};
use order_ports::store::{OrderSelection, SortOrder};
use serde::Deserialize;
use utoipa::{PartialSchema, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{base_url, ListingPath, OrderPath, PathId, State};
use crate::auth::{User, UserOrService};
use crate::command::{Command, FieldErrors, FromBody};
use crate::error::ApiError;
use crate::json::JsonBody;
use crate::openapi;
use crate::query::{PageParams, Pagination, Params};
use crate::reply::{cacheable, Reply};
use crate::representation::HistoryEntryView;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(detail)
        .service(history)
        .service(ship)
        .service(complete)
        .service(cancel)
        .service(dispute)
        .service(purchase);
}

/// List orders.
///
/// Any user: the orders they buy or sell; an admin: every order. Filters by status (repeatable),
/// role, listing and creation time; ordered and paged as DRF pages (numbered pages or cursors).
/// Changes nothing. Errors: 400 for a filter, `ordering` or page size it cannot read, 404
/// `Invalid page.` or `Invalid cursor.`
#[utoipa::path(
    operation_id = "listOrders",
    tag = "orders",
    params(
        ("status" = Option<Vec<openapi::OrderStatus>>, Query, description = "Any of these statuses (repeatable)"),
        ("role" = Option<openapi::Role>, Query, description = "Only orders where the caller is the buyer, or the seller"),
        ("listing_id" = Option<uuid::Uuid>, Query),
        ("created_after" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Inclusive"),
        ("created_before" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Exclusive"),
        ("ordering" = Option<openapi::Ordering>, Query),
        PageParams,
    ),
    responses((status = 200, description = "A page of orders", body = openapi::OrderPage))
)]
#[get("/api/v1/orders/")]
async fn list(state: State, user: User, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut params = Params::parse(req.query_string())?;
    let statuses = params.all_parsed::<OrderStatus>("status")?;
    let role = match params.one("role")?.as_deref() {
        None => None,
        Some("buyer") => Some(Party::Buyer),
        Some("seller") => Some(Party::Seller),
        Some(other) => {
            return Err(ApiError::field(
                "role",
                format!("\"{other}\" is not a valid choice; use buyer or seller."),
            ))
        }
    };
    let listing_id = params.parsed::<ListingId>("listing_id", "a valid UUID")?;
    let created_after = params.datetime("created_after")?;
    let created_before = params.datetime("created_before")?;
    let sort = match params.one("ordering")?.as_deref() {
        None | Some("-created_at") => SortOrder::NewestFirst,
        Some("created_at") => SortOrder::OldestFirst,
        Some(other) => {
            return Err(ApiError::field(
                "ordering",
                format!("\"{other}\" is not a valid ordering; use created_at or -created_at."),
            ))
        }
    };
    let pagination = Pagination::from_params(&mut params)?;
    params.finish()?;
    let selection = OrderSelection {
        statuses,
        listing_id,
        created_after,
        created_before,
        sort,
        page: pagination.request,
    };
    let page = state.service.list_orders(user.0, role, selection).await?;
    let body = pagination.render(&base_url(&state, &req)?, &page, |order| {
        state.order_view(order, user.0)
    })?;
    Ok(HttpResponse::Ok().json(body))
}

/// Read an order.
///
/// The order's buyer, its seller or an admin: the order with `allowed_actions` (what this
/// caller may do to it now) and an `ETag`; `If-None-Match` answers 304 when nothing changed.
/// Changes nothing. Errors: 404 for an order the caller may not see.
#[utoipa::path(
    operation_id = "getOrder",
    tag = "orders",
    params(OrderPath),
    responses((status = 200, description = "The order", body = openapi::Order))
)]
#[get("/api/v1/orders/{id}/")]
async fn detail(
    state: State,
    user: User,
    req: HttpRequest,
    PathId(order_id): OrderPath,
) -> Result<HttpResponse, ApiError> {
    let order = state.service.order(user.0, order_id).await?;
    cacheable(&req, &state.order_view(&order, user.0))
}

/// Read an order's history.
///
/// The order's buyer, its seller or an admin: every event of the order, oldest first, with who
/// caused it, the status before and after, and what the event added — never an admin's notes.
/// Paged. Changes nothing. Errors: 404 for an order the caller may not see.
#[utoipa::path(
    operation_id = "getOrderHistory",
    tag = "orders",
    params(
        OrderPath,
        ("page" = Option<u64>, Query, minimum = 1),
        ("page_size" = Option<i64>, Query, minimum = 1, description = "Default 50; a larger size than 100 is read as 100"),
    ),
    responses((status = 200, description = "A page of the order's history", body = openapi::HistoryPage))
)]
#[get("/api/v1/orders/{id}/history/")]
async fn history(
    state: State,
    user: User,
    req: HttpRequest,
    PathId(order_id): OrderPath,
) -> Result<HttpResponse, ApiError> {
    let mut params = Params::parse(req.query_string())?;
    let numbered = Pagination::numbered(&mut params, HISTORY_PAGE_SIZE)?;
    params.finish()?;
    let page = state
        .service
        .history(user.0, order_id, numbered.offset, numbered.limit)
        .await?;
    let body = numbered
        .pagination
        .render(&base_url(&state, &req)?, &page, |entry| {
            HistoryEntryView::from(entry)
        })?;
    Ok(HttpResponse::Ok().json(body))
}

/// A history page's size unless asked.
const HISTORY_PAGE_SIZE: u32 = 50;

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"tracking_number": "1Z999AA10123456784", "carrier": "UPS"}))]
struct ShipBody {
    #[schema(schema_with = <TrackingNumber as PartialSchema>::schema)]
    tracking_number: String,
    #[schema(schema_with = <Carrier as PartialSchema>::schema)]
    carrier: String,
}

struct Ship {
    tracking: TrackingNumber,
    carrier: Carrier,
}

impl FromBody for Ship {
    type Body = ShipBody;

    fn from_body(body: ShipBody) -> Result<Ship, ApiError> {
        let mut errors = FieldErrors::default();
        let tracking = errors.check(TrackingNumber::parse(&body.tracking_number));
        let carrier = errors.check(Carrier::parse(&body.carrier));
        errors.finish(
            tracking
                .zip(carrier)
                .map(|(tracking, carrier)| Ship { tracking, carrier }),
        )
    }
}

/// Ship an order.
///
/// The order's seller: PAID → SHIPPED with `tracking_number` and `carrier`; the
/// auto-completion window starts. Raises `order.shipped`. Errors: 400 for the fields, 403 for
/// anyone else, 409 `invalid_transition` from any other status.
#[utoipa::path(
    operation_id = "shipOrder",
    tag = "orders",
    params(OrderPath),
    request_body = ShipBody,
    responses((status = 200, description = "The shipped order", body = openapi::Order))
)]
#[post("/api/v1/orders/{id}/ship/")]
async fn ship(
    state: State,
    user: User,
    PathId(order_id): OrderPath,
    command: Command<Ship>,
) -> Result<Reply, ApiError> {
    let Command(ship) = command;
    let order = state
        .service
        .ship(user.0, order_id, ship.tracking, ship.carrier)
        .await?;
    Ok(Reply::ok(state.order_json(&order, user.0)?))
}

/// Confirm receipt of an order.
///
/// The order's buyer: SHIPPED or DELIVERED → COMPLETED. The escrow is released to the seller
/// (less the fee) before the change is stored. Raises `order.completed` with the settlement.
/// Errors: 403 for anyone else, 409 `invalid_transition` or `operation_in_progress`, 503 if
/// the Wallet fails (nothing changes; a retry releases once).
#[utoipa::path(
    operation_id = "completeOrder",
    tag = "orders",
    params(OrderPath),
    responses((status = 200, description = "The completed order", body = openapi::Order))
)]
#[post("/api/v1/orders/{id}/complete/")]
async fn complete(
    state: State,
    user: User,
    PathId(order_id): OrderPath,
) -> Result<Reply, ApiError> {
    let order = state.service.complete(user.0, order_id).await?;
    Ok(Reply::ok(state.order_json(&order, user.0)?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reason": "The seller never shipped."}))]
struct CancelBody {
    /// Why the order is called off.
    #[schema(schema_with = <CancellationReason as PartialSchema>::schema)]
    reason: String,
}

struct CancelPaid {
    reason: CancellationReason,
}

impl FromBody for CancelPaid {
    type Body = CancelBody;

    fn from_body(body: CancelBody) -> Result<CancelPaid, ApiError> {
        let reason = CancellationReason::parse(&body.reason)?;
        Ok(CancelPaid { reason })
    }
}

/// Cancel an order.
///
/// With a `reason`: the seller cancels a PAID order before shipping, the buyer once `ship_by`
/// has passed; an admin cancels a PENDING_PAYMENT or PAID order. A paid order's whole escrow
/// goes back to the buyer first. Raises `order.cancelled`. Errors: 400 for the reason, 403,
/// 409 `invalid_transition`, `not_yet_overdue` (a buyer before `ship_by`) or `order_disputed`,
/// 503 if the Wallet fails (nothing changes; a retry refunds once).
#[utoipa::path(
    operation_id = "cancelOrder",
    tag = "orders",
    params(OrderPath),
    request_body = CancelBody,
    responses((status = 200, description = "The cancelled order, any escrow refunded", body = openapi::Order))
)]
#[post("/api/v1/orders/{id}/cancel/")]
async fn cancel(
    state: State,
    user: User,
    PathId(order_id): OrderPath,
    command: Command<CancelPaid>,
) -> Result<Reply, ApiError> {
    let Command(cancel) = command;
    let order = state
        .service
        .cancel_by_user(user.0, order_id, cancel.reason)
        .await?;
    Ok(Reply::ok(state.order_json(&order, user.0)?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reason": "The lens arrived scratched.", "evidence": ["https://img.example.com/lens.jpg"]}))]
struct DisputeBody {
    #[schema(schema_with = <DisputeReason as PartialSchema>::schema)]
    reason: String,
    /// At most 20 http(s) URLs.
    #[serde(default)]
    #[schema(max_items = 20, value_type = Vec<openapi::EvidenceUrl>)]
    evidence: Vec<String>,
}

struct OpenDispute {
    reason: DisputeReason,
    evidence: Vec<EvidenceUrl>,
}

impl FromBody for OpenDispute {
    type Body = DisputeBody;

    fn from_body(body: DisputeBody) -> Result<OpenDispute, ApiError> {
        let mut errors = FieldErrors::default();
        let reason = errors.check(DisputeReason::parse(&body.reason));
        let evidence: Option<Vec<_>> = body
            .evidence
            .iter()
            .map(|url| errors.check(EvidenceUrl::parse(url)))
            .collect();
        errors.finish(
            reason
                .zip(evidence)
                .map(|(reason, evidence)| OpenDispute { reason, evidence }),
        )
    }
}

/// Open a dispute on an order.
///
/// The order's buyer or seller, with a `reason` and optional evidence URLs: PAID, SHIPPED or
/// DELIVERED → DISPUTED, the running deadline paused and the dispute opened OPEN. Raises
/// `order.disputed`. Errors: 400 for the fields, 403, 409 `invalid_transition` or
/// `dispute_exists`.
#[utoipa::path(
    operation_id = "openDispute",
    tag = "orders",
    params(OrderPath),
    request_body = DisputeBody,
    responses((status = 201, description = "The new dispute", body = openapi::Dispute))
)]
#[post("/api/v1/orders/{id}/dispute/")]
async fn dispute(
    state: State,
    user: User,
    PathId(order_id): OrderPath,
    command: Command<OpenDispute>,
) -> Result<Reply, ApiError> {
    let Command(open) = command;
    let dispute = state
        .service
        .open_dispute(user.0, order_id, open.reason, open.evidence)
        .await?;
    Ok(Reply::created(state.dispute_json(&dispute, user.0)?))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"shipping_address": {"name": "Alice Martin", "city": "Lyon"}}))]
struct PurchaseBody {
    #[serde(default)]
    #[schema(value_type = Option<openapi::ShippingAddress>)]
    shipping_address: Option<ShippingAddress>,
    /// Required when a service buys for a user; a user may only name themselves.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    buyer_id: Option<UserId>,
}

/// Buy a listing now.
///
/// A user, or a service naming `buyer_id`; the path's id is the **listing**'s. Checks the
/// listing has a Buy It Now price and the buyer is not its seller, creates the order, holds the
/// total in escrow and answers the PAID order (201; 200 for the same buyer's retry, which
/// resumes the order without a second debit). Raises `order.created` and `order.paid`. Errors:
/// 400, 402 `insufficient_funds` (the order is CANCELLED), 404 for an unknown listing, 409
/// `listing_sold` or `listing_unavailable`, 503 if a peer fails (a retry finishes the order).
#[utoipa::path(
    operation_id = "buyNow",
    tag = "orders",
    params(ListingPath),
    request_body = PurchaseBody,
    responses(
        (status = 201, description = "The paid order", body = openapi::Order),
        (status = 200, description = "This buyer's order of the listing, already paid", body = openapi::Order),
        (status = 402, description = "Declined: insufficient funds; the order is cancelled", body = openapi::ErrorDetail),
    ),
    security(("bearer" = []), ("serviceToken" = []))
)]
#[post("/api/v1/orders/{id}/purchase/")]
async fn purchase(
    state: State,
    caller: UserOrService,
    PathId(listing_id): ListingPath,
    body: JsonBody<PurchaseBody>,
) -> Result<Reply, ApiError> {
    let (UserOrService(caller), JsonBody(body)) = (caller, body);
    let purchase = Purchase {
        listing_id,
        buyer_id: body.buyer_id,
        shipping_address: body.shipping_address.unwrap_or_default(),
    };
    let placed = state.service.purchase(caller, purchase).await?;
    Ok(Reply::placed(
        placed.created,
        state.order_json(&placed.order, caller)?,
    ))
}
