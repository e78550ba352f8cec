//! The endpoints, one module per resource.

mod api_docs;
mod carriers;
mod disputes;
mod health;
mod internal;
pub mod methods;
mod offers;
mod orders;
mod settlement;

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use order_domain::{DisputeId, ListingId, OfferId, OrderId};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::Required;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::state::AppState;

pub use api_docs::check;

/// Registers every endpoint, and with it its OpenAPI description.
pub fn configure(cfg: &mut ServiceConfig) {
    health::configure(cfg);
    api_docs::configure(cfg);
    // Internal paths first: `/orders/internal/…` must not be read as an order id.
    internal::configure(cfg);
    // Before `/orders/{id}/`, which would read `carrier-events` as an order id.
    carriers::configure(cfg);
    orders::configure(cfg);
    settlement::configure(cfg);
    disputes::configure(cfg);
    offers::configure(cfg);
}

/// The web application's shared state, as handlers take it.
type State = actix_web::web::Data<AppState>;

/// For a documented path asked with a method it does not serve: a DRF-shaped 405, whose
/// `Allow` names the methods the path does serve.
pub async fn method_not_allowed(req: HttpRequest, allow: String) -> Result<HttpResponse, ApiError> {
    let asked = req
        .extensions()
        .get::<methods::AskedWith>()
        .map(|asked| asked.0.clone())
        .unwrap_or_else(|| req.method().clone());
    Err(ApiError::MethodNotAllowed {
        asked: asked.to_string(),
        allow,
    })
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// The resource a path's `{id}` names, read before the handler runs: anything but a UUID
/// names nothing, so it is a 404 like any unknown id.
pub struct PathId<T>(pub T);

type OrderPath = PathId<OrderId>;
type DisputePath = PathId<DisputeId>;
type ListingPath = PathId<ListingId>;
type OfferPath = PathId<OfferId>;

impl<T: Named + std::str::FromStr> FromRequest for PathId<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .match_info()
            .get(T::SEGMENT)
            .and_then(|raw| raw.parse().ok());
        ready(id.map(PathId).ok_or(ApiError::NotFound))
    }
}

/// What a path's id names: its segment and, for the OpenAPI document, its description.
trait Named {
    /// The segment of the path that holds it.
    const SEGMENT: &'static str = "id";
    const DESCRIPTION: &'static str;
}

/// How the OpenAPI document describes a path's order, dispute and offer: what its links
/// recognize operations on each by.
pub(crate) const ORDER_PARAMETER: &str = "The order";
pub(crate) const DISPUTE_PARAMETER: &str = "The dispute";
pub(crate) const OFFER_PARAMETER: &str = "The offer";

impl Named for OrderId {
    const DESCRIPTION: &'static str = ORDER_PARAMETER;
}

impl Named for DisputeId {
    const DESCRIPTION: &'static str = DISPUTE_PARAMETER;
}

impl Named for ListingId {
    const DESCRIPTION: &'static str = "The listing";
}

impl Named for OfferId {
    const SEGMENT: &'static str = "offer_id";
    const DESCRIPTION: &'static str = OFFER_PARAMETER;
}

impl<T: Named> IntoParams for PathId<T> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let id = ParameterBuilder::new()
            .name(T::SEGMENT)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(T::DESCRIPTION))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            ));
        vec![id.build()]
    }
}

/// This request's URL without its query string, for `next` and `previous` links.
fn base_url(state: &AppState, req: &HttpRequest) -> Result<String, ApiError> {
    state.hosts.url_of(req)
}
