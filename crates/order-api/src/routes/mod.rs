//! The endpoints, one module per resource.

mod api_docs;
mod disputes;
mod health;
mod internal;
pub mod methods;
mod orders;

use actix_web::{HttpMessage, HttpRequest, HttpResponse};
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
    orders::configure(cfg);
    disputes::configure(cfg);
}

/// The header every POST (and the dispute PATCH) takes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Described, never read through this type.
struct IdempotencyKey {
    /// A retry with the same key and body gets the first answer again (1–255 visible ASCII).
    #[param(rename = "Idempotency-Key", pattern = r"^[!-~]{1,255}$")]
    idempotency_key: Option<String>,
}

/// For a documented path asked with a method it does not serve: a DRF-shaped 405.
pub async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let asked = req
        .extensions()
        .get::<methods::AskedWith>()
        .map(|asked| asked.0.clone())
        .unwrap_or_else(|| req.method().clone());
    Err(ApiError::MethodNotAllowed(asked.to_string()))
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// A path id; anything but a UUID names nothing, so it is a 404 like any unknown id.
fn id<T: std::str::FromStr>(raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

/// This request's URL without its query string, for `next` and `previous` links.
fn base_url(state: &AppState, req: &HttpRequest) -> Result<String, ApiError> {
    state.hosts.url_of(req)
}
