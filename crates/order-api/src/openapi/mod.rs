//! The OpenAPI 3 document, generated from the handlers' annotations as they are registered
//! (utoipa-actix-web), so that every served route is documented and nothing else is.
//!
//! The schemas of answers are derived from the types that are serialized into them
//! (`order-events`' views and the domain's values, behind their `openapi` feature, and
//! [`crate::representation`]); what is declared here describes input and the history's
//! event-specific details, and `tests/openapi.rs` checks all of it against real answers.

#![allow(dead_code)] // Schema types are described, never built.

mod links;

use order_domain::order::{DISPUTE_ACTIONS, ORDER_ACTIONS};

use crate::error::ApiError;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

pub use crate::representation::{EventFeed, HistoryEntryView};
pub use order_domain::dispute::{DisputeStatus, Offer, Resolution};
pub use order_domain::order::{OrderSource, ShippingAddress};
pub use order_domain::{Money, OrderStatus, Settlement};
pub use order_events::{DisputeView as Dispute, OrderView as Order};

/// Money as input: a decimal string or number, at most 2 decimals, 0 to 9,999,999,999.99.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = r"^\d{1,10}(\.\d{1,2})?$", example = "125.00")]
pub struct MoneyInput(String);

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

/// A link to evidence: an absolute http or https URL with a host, at most 2048 characters.
#[derive(ToSchema)]
#[schema(
    value_type = String,
    format = "uri",
    pattern = r"^[Hh][Tt][Tt][Pp][Ss]?://([^\s/?#@]*@)?[^\s/?#@:]+(:[0-9]*)?([/?#]\S*)?$",
    example = "https://img.example.com/parcel.jpg"
)]
pub struct EvidenceUrl(String);

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

/// A page of an order's history, oldest first (DRF page; 50 a page unless asked).
#[derive(ToSchema)]
pub struct HistoryPage {
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<HistoryEntryView>,
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
        contact(name = "Order Service team"),
        license(name = "MIT", identifier = "MIT"),
    ),
    servers(
        (url = "http://localhost:8005", description = "The service run locally (`make run`); a deployment serves this document at its own address, which clients are given instead"),
    ),
    components(schemas(Order, Dispute, OrderPage, DisputePage, HistoryDetails, ErrorDetail, FieldErrors, Role, Ordering)),
    tags(
        (name = "orders", description = "Orders, for their buyer and seller"),
        (name = "internal", description = "What other services tell this one (X-Service-Token)"),
        (name = "carriers", description = "Tracking updates pushed by a carrier aggregator (Carrier-Signature)"),
        (name = "disputes", description = "Disputes, for admins and the order's parties"),
        (name = "operations", description = "Probes, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// The header every write takes: the idempotency middleware keys every POST and PATCH.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
struct IdempotencyKey {
    /// A retry with the same key and body gets the first answer again (1–255 visible ASCII).
    #[param(rename = "Idempotency-Key", pattern = r"^[!-~]{1,255}$")]
    idempotency_key: Option<String>,
}

/// What holds for every operation alike, so that no handler states it: the security
/// schemes (an operation under `internal` takes the service token, any other a user's token,
/// unless it says otherwise), the Idempotency-Key of every write, and the error answers
/// every operation may give.
pub struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        with_allowed_actions(
            components,
            "Order",
            &ORDER_ACTIONS,
            "What this caller may do to the order now, sorted, each listed exactly when its\n\
             endpoint would accept it: its buyer and seller their own actions, an admin the\n\
             operator actions that apply, party or not; `[]` for services. Not in events.",
        );
        with_allowed_actions(
            components,
            "Dispute",
            &DISPUTE_ACTIONS,
            "What this caller may do to the dispute now, sorted, each listed exactly when its\n\
             endpoint would accept it: evidence and offers for its parties, `update` for\n\
             admins; `[]` for services.",
        );
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
        components.add_security_scheme(
            "carrierSignature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Carrier-Signature",
                "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\" keyed with \
                 CARRIER_WEBHOOK_SECRET>; t within 300 s of the service's clock.",
            ))),
        );
        for item in openapi.paths.paths.values_mut() {
            // A carrier's update is applied once by its own `event_id`.
            let keyed = |write: &utoipa::openapi::path::Operation| {
                !write
                    .tags
                    .as_ref()
                    .is_some_and(|tags| tags.iter().any(|t| t == "carriers"))
            };
            for write in [&mut item.post, &mut item.patch]
                .into_iter()
                .flatten()
                .filter(|write| keyed(write))
            {
                write
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .extend(IdempotencyKey::into_params(|| None));
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let tagged = |tag: &str| {
                    operation
                        .tags
                        .as_ref()
                        .is_some_and(|tags| tags.iter().any(|t| t == tag))
                };
                let public = tagged("operations");
                let scheme = if tagged("internal") {
                    "serviceToken"
                } else if tagged("carriers") {
                    "carrierSignature"
                } else {
                    "bearer"
                };
                if !public && operation.security.is_none() {
                    operation.security =
                        Some(vec![SecurityRequirement::new(scheme, Vec::<String>::new())]);
                }
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

/// Answers add to an order and a dispute what the caller may do next
/// ([`crate::representation::WithActions`]); events do not, so the views' own schemas lack it.
fn with_allowed_actions(
    components: &mut utoipa::openapi::Components,
    schema: &str,
    actions: &[&str],
    description: &str,
) {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
    if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) {
        let action = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(actions.iter().copied()));
        let actions = ArrayBuilder::new()
            .items(action)
            .unique_items(true)
            .description(Some(description));
        object
            .properties
            .insert("allowed_actions".to_owned(), actions.into());
        object.required.push("allowed_actions".to_owned());
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

/// The document as served: [`document`] with the links between its operations.
pub fn document_json() -> Result<&'static str, ApiError> {
    static JSON: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        let mut json = serde_json::to_value(document())
            .map_err(|error| format!("the OpenAPI document does not serialize: {error}"))?;
        links::link_answers(&mut json);
        Ok(json.to_string())
    })
    .as_deref()
    .map_err(|error| ApiError::Internal(error.to_owned()))
}
