//! The OpenAPI 3 document, generated from the handlers' annotations as they are registered
//! (utoipa-actix-web), so that every served route is documented and nothing else is.
//!
//! The wire types live in `order-app` and `order-domain`, which do not depend on utoipa;
//! their schemas are declared here, and `tests/openapi.rs` checks them against real answers.

#![allow(dead_code)] // Schema types are described, never built.

use crate::error::ApiError;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

/// An amount of money: a decimal string with two places.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^\d{1,10}\.\d{2}$", example = "125.00")]
pub struct Money(String);

/// Money as input: a decimal string or number, at most 2 decimals, 0 to 9,999,999,999.99.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^\d{1,10}(\.\d{1,2})?$", example = "125.00")]
pub struct MoneyInput(String);

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Shipped,
    Delivered,
    Completed,
    Cancelled,
    Disputed,
    Refunded,
}

/// Which side of its orders the caller lists.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Role {
    Buyer,
    Seller,
}

/// Newest first (default) or oldest first.
#[derive(ToSchema)]
pub enum Ordering {
    #[schema(rename = "-created_at")]
    NewestFirst,
    #[schema(rename = "created_at")]
    OldestFirst,
}

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderSource {
    Auction,
    BuyNow,
}

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisputeStatus {
    Open,
    Evidence,
    Review,
    Resolved,
    Closed,
}

#[derive(ToSchema)]
#[schema(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Resolution {
    RefundBuyer,
    ReleaseSeller,
    PartialRefund,
    NoAction,
}

/// A link to evidence: an absolute http or https URL with a host, at most 2048 characters.
#[derive(ToSchema)]
#[schema(
    value_type = String,
    format = "uri",
    pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://([^\s/?#@]*@)?[^\s/?#@:]+(:[0-9]*)?([/?#]\S*)?$",
    example = "https://img.example.com/parcel.jpg"
)]
pub struct EvidenceUrl(String);

/// Where the item goes: a flat object of strings; the keys are the client's.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Alice", "city": "Lyon"}))]
pub struct ShippingAddress(std::collections::BTreeMap<String, String>);

#[derive(ToSchema)]
pub struct DisputeSummary {
    #[schema(format = Uuid)]
    id: String,
    status: DisputeStatus,
    resolution: Option<Resolution>,
}

/// An order, as every answer and event carries it.
#[derive(ToSchema)]
pub struct Order {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    listing_id: String,
    #[schema(format = Uuid)]
    buyer_id: String,
    #[schema(format = Uuid)]
    seller_id: String,
    source: OrderSource,
    amount: Money,
    fee_amount: Money,
    shipping_cost: Money,
    /// `amount + shipping_cost`.
    total: Money,
    status: OrderStatus,
    shipping_address: ShippingAddress,
    tracking_number: Option<String>,
    carrier: Option<String>,
    #[schema(format = Uuid)]
    escrow_id: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    paid_at: Option<String>,
    #[schema(format = DateTime)]
    shipped_at: Option<String>,
    #[schema(format = DateTime)]
    delivered_at: Option<String>,
    #[schema(format = DateTime)]
    completed_at: Option<String>,
    #[schema(format = DateTime)]
    cancelled_at: Option<String>,
    /// An auction winner's payment deadline (`created_at + PAYMENT_WINDOW`) while
    /// PENDING_PAYMENT; null otherwise, and always for BUY_NOW.
    #[schema(format = DateTime)]
    pay_by: Option<String>,
    /// The seller's shipping deadline (`paid_at + SHIP_WITHIN`) while PAID, else null.
    /// Past it the buyer may cancel the order.
    #[schema(format = DateTime)]
    ship_by: Option<String>,
    /// What this caller may do to the order now, sorted: a subset of `cancel`,
    /// `complete`, `dispute`, `ship`, each listed exactly when its endpoint would accept it
    /// (`[]` for services and for admins who are not a party). Not in events.
    allowed_actions: Vec<String>,
    /// When the order completes by itself while SHIPPED or DELIVERED, else null:
    /// `shipped_at + AUTO_COMPLETE_AFTER`, or after a NO_ACTION resolution what was left
    /// of that window when the dispute opened (at least an hour), counted from then.
    #[schema(format = DateTime)]
    auto_complete_at: Option<String>,
    dispute: Option<DisputeSummary>,
}

/// A dispute, as every answer and event carries it.
#[derive(ToSchema)]
pub struct Dispute {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    order_id: String,
    #[schema(format = Uuid)]
    opened_by: String,
    reason: String,
    evidence: Vec<String>,
    status: DisputeStatus,
    resolution: Option<Resolution>,
    refund_amount: Option<Money>,
    /// The admin's notes; null for anyone but an admin, and in every event.
    admin_notes: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    #[schema(format = DateTime)]
    resolved_at: Option<String>,
    /// The answer deadline of the party that did not open the dispute
    /// (`created_at + DISPUTE_RESPONSE_WINDOW`); null once it added evidence or the dispute
    /// left OPEN/EVIDENCE. Past it, the dispute goes to REVIEW by itself.
    #[schema(format = DateTime)]
    respond_by: Option<String>,
    /// When that party first added evidence.
    #[schema(format = DateTime)]
    responded_at: Option<String>,
    /// When the dispute went to REVIEW because nobody answered by `respond_by`.
    #[schema(format = DateTime)]
    escalated_at: Option<String>,
    /// What this caller may do to the dispute now: `add_evidence` (its parties, while it
    /// takes evidence and has room), `update` (admins). `[]` for services.
    allowed_actions: Vec<String>,
}

/// A page of orders: `count` only for numbered pages (`?page=`), absent for `?cursor=`.
#[derive(ToSchema)]
pub struct OrderPage {
    #[schema(required = false)]
    count: u64,
    /// Present, and false, when the filter has no kept count (a created range, or a
    /// status within a user's own list) and more than 10,000 orders match: `count` is then
    /// 10,000, a floor. Follow `next` to the end, or use `?cursor=`.
    #[schema(required = false)]
    count_exact: bool,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<Order>,
}

/// Who made a change: `buyer`, `seller`, `admin` (with the user's id), `service` or
/// `system` (id null).
#[derive(ToSchema)]
pub struct Actor {
    #[schema(inline, value_type = String, pattern = "^(buyer|seller|admin|service|system)$")]
    r#type: String,
    #[schema(format = Uuid)]
    id: Option<String>,
}

/// A settlement: where an order's escrow went; the three parts sum to its total.
#[derive(ToSchema)]
pub struct Settlement {
    buyer_refund: Money,
    seller_amount: Money,
    fee_amount: Money,
}

/// `order.created`.
#[derive(ToSchema)]
pub struct CreationDetails {
    source: OrderSource,
    total: Money,
}

/// `order.paid`.
#[derive(ToSchema)]
pub struct PaymentDetails {
    #[schema(format = Uuid)]
    escrow_id: String,
}

/// `order.shipped`.
#[derive(ToSchema)]
pub struct ShipmentDetails {
    tracking_number: String,
    carrier: String,
}

/// `order.delivered`.
#[derive(ToSchema)]
pub struct DeliveryDetails {
    #[schema(format = DateTime)]
    delivered_at: String,
}

/// `order.ship_overdue`.
#[derive(ToSchema)]
pub struct ShipOverdueDetails {
    #[schema(format = DateTime)]
    ship_by: String,
}

/// `order.cancelled`: the reason, and the refund when the order had been paid.
#[derive(ToSchema)]
pub struct CancellationDetails {
    reason: String,
    #[schema(required = false)]
    settlement: Settlement,
}

/// `order.completed` and `order.refunded` outside a dispute: the settlement.
#[derive(ToSchema)]
pub struct SettlementDetails {
    settlement: Settlement,
}

/// The dispute events (`order.disputed`, `dispute.*`, and `order.completed` /
/// `order.refunded` of a resolution): the dispute and its new status, with what the event
/// adds — the reason, the resolution and refund, the new evidence, the settlement.
#[derive(ToSchema)]
pub struct DisputeDetails {
    #[schema(format = Uuid)]
    dispute_id: String,
    dispute_status: DisputeStatus,
    #[schema(required = false)]
    reason: String,
    #[schema(required = false)]
    resolution: Option<Resolution>,
    #[schema(required = false)]
    refund_amount: Option<Money>,
    #[schema(required = false)]
    urls: Vec<String>,
    #[schema(required = false)]
    settlement: Settlement,
}

/// What an event adds to the order's story, by kind of event; never an admin's notes.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Described, never built.
pub enum HistoryDetails {
    Creation(CreationDetails),
    Payment(PaymentDetails),
    Shipment(ShipmentDetails),
    Delivery(DeliveryDetails),
    ShipOverdue(ShipOverdueDetails),
    Cancellation(CancellationDetails),
    Settlement(SettlementDetails),
    Dispute(DisputeDetails),
}

/// One event of an order's history.
#[derive(ToSchema)]
pub struct HistoryEntry {
    /// 1, 2, 3… for this order, gap-free, in the order the changes committed.
    sequence: u64,
    event_type: String,
    #[schema(format = DateTime)]
    occurred_at: String,
    actor: Actor,
    /// The order's status before the change (equal to `to_status` when only the dispute
    /// changed).
    from_status: OrderStatus,
    to_status: OrderStatus,
    details: HistoryDetails,
}

/// A page of an order's history, oldest first (DRF page; 50 a page unless asked).
#[derive(ToSchema)]
pub struct HistoryPage {
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<HistoryEntry>,
}

/// One event of the replay feed.
#[derive(ToSchema)]
pub struct FeedEvent {
    /// The event's place in the feed, across every order.
    position: u64,
    #[schema(format = Uuid)]
    event_id: String,
    event_type: String,
    #[schema(format = Uuid)]
    order_id: String,
    /// The event's place among its order's events.
    sequence: u64,
    #[schema(format = DateTime)]
    occurred_at: String,
    /// Exactly the `Detail` EventBridge gets.
    #[schema(value_type = Object)]
    detail: serde_json::Value,
}

/// A page of the replay feed: ask again with `after = next_after` to go on.
#[derive(ToSchema)]
pub struct EventFeed {
    results: Vec<FeedEvent>,
    next_after: u64,
}

/// A page of disputes: `count` only for numbered pages.
#[derive(ToSchema)]
pub struct DisputePage {
    #[schema(required = false)]
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<Dispute>,
}

/// An error: what went wrong, a stable code, and for 409 `invalid_transition` the
/// current status.
#[derive(ToSchema)]
pub struct ErrorDetail {
    detail: String,
    code: String,
    #[schema(required = false)]
    status: String,
}

/// Validation errors: each refused field with its messages (`non_field_errors` for the
/// body as a whole).
#[derive(ToSchema)]
#[schema(example = json!({"tracking_number": ["Enter 1 to 64 letters, digits or hyphens."]}))]
pub struct FieldErrors(std::collections::BTreeMap<String, Vec<String>>);

/// The document's frame; the paths come from the registered handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Order Service",
        description = "Orders of the auction marketplace, from the auction win or the Buy It Now click until escrow pays the seller. See docs/api.md for authentication, errors, pagination and idempotency.",
    ),
    components(schemas(Order, Dispute, OrderPage, DisputePage, ErrorDetail, FieldErrors, Role, Ordering)),
    tags(
        (name = "orders", description = "Orders, for their buyer and seller"),
        (name = "internal", description = "What other services tell this one (X-Service-Token)"),
        (name = "disputes", description = "Disputes, for admins and the order's parties"),
        (name = "operations", description = "Probes, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// The security schemes, and the error answers every operation may give.
pub struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        // A history entry's details match one or several of these shapes (a dispute's
        // cancellation has a reason like a plain one): `anyOf`, where a derived untagged
        // enum would say `oneOf`.
        let details = [
            "CreationDetails",
            "PaymentDetails",
            "ShipmentDetails",
            "DeliveryDetails",
            "ShipOverdueDetails",
            "CancellationDetails",
            "SettlementDetails",
            "DisputeDetails",
        ]
        .into_iter()
        .fold(
            utoipa::openapi::schema::AnyOfBuilder::new().description(Some(
                "What an event adds to the order's story, by kind of event; never an admin's notes.",
            )),
            |any, name| any.item(Ref::from_schema_name(name)),
        );
        components.schemas.insert(
            "HistoryDetails".into(),
            RefOr::T(utoipa::openapi::schema::Schema::AnyOf(details.build())),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A user's JWT: HS256 with JWT_SECRET (or RS256 with JWT_PUBLIC_KEY); \
                         claims `sub` (the user's UUID), `exp`, optional `is_staff`. When \
                         JWT_AUDIENCE or JWT_ISSUER is set, the token's `aud` or `iss` must be \
                         that value (a token without it is refused); when not, they are ignored.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "serviceToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Service-Token"))),
        );
        let error = |description: &str, schema: RefOr<utoipa::openapi::schema::Schema>| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(schema)).build(),
                )
                .build()
        };
        let detail = || RefOr::Ref(Ref::from_schema_name("ErrorDetail"));
        let either = || {
            RefOr::T(utoipa::openapi::schema::Schema::OneOf(
                utoipa::openapi::schema::OneOfBuilder::new()
                    .item(Ref::from_schema_name("FieldErrors"))
                    .item(Ref::from_schema_name("ErrorDetail"))
                    .build(),
            ))
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let public = operation
                    .tags
                    .as_ref()
                    .is_some_and(|tags| tags.iter().any(|t| t == "operations"));
                let mut add =
                    |code: &str,
                     description: &str,
                     schema: RefOr<utoipa::openapi::schema::Schema>| {
                        operation
                            .responses
                            .responses
                            .entry(code.to_owned())
                            .or_insert_with(|| RefOr::T(error(description, schema)));
                    };
                add(
                    "400",
                    "Invalid input: field errors, or a malformed query or body",
                    either(),
                );
                add("404", "Not found, or not visible to the caller", detail());
                add("405", "Method not allowed", detail());
                if public {
                    continue;
                }
                add("401", "No, bad or expired credentials", detail());
                add("403", "Authenticated, not allowed", detail());
                add(
                    "409",
                    "Not allowed from the current status, or conflicts with what exists",
                    detail(),
                );
                add("413", "Body over 64 KiB", detail());
                add("415", "Body is not application/json", detail());
                add("422", "Idempotency-Key reused with another body", detail());
                add("502", "A peer service refused the request", detail());
                add(
                    "503",
                    "A peer or the database is unavailable; retry later",
                    detail(),
                );
            }
        }
    }
}

/// The document, built once from the registered routes.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        use utoipa_actix_web::AppExt;
        let (_, mut document) = actix_web::App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(crate::routes::configure)
            .split_for_parts();
        document.info.version = env!("CARGO_PKG_VERSION").to_owned();
        Conventions.modify(&mut document);
        document
    })
}

pub fn document_json() -> Result<&'static str, ApiError> {
    static JSON: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        document()
            .to_json()
            .map_err(|error| format!("the OpenAPI document does not serialize: {error}"))
    })
    .as_deref()
    .map_err(|error| ApiError::Internal(error.to_owned()))
}
