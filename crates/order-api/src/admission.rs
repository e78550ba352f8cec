//! What is refused before routing: a method or a path too long to be anything this service
//! serves, and a host it does not answer for. Refused here, such a request reaches no
//! handler, and its method and path reach no log line or metric at full length.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};

use crate::error::ApiError;
use crate::state::AppState;

/// The longest method accepted: every standard method and the common extensions
/// (`PROPPATCH`, `MKCALENDAR`) fit.
pub const LONGEST_METHOD: usize = 16;

/// The longest path accepted; this service's own paths are under 100 bytes.
pub const LONGEST_PATH: usize = 2048;

/// The paths probes and scrapers call.
const PROBES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Whether `path` is a probe's or a scraper's: called by address, with whatever `Host`
/// that gives, every few seconds, about nothing but the service itself.
pub fn is_probe(path: &str) -> bool {
    PROBES.contains(&path.trim_end_matches('/'))
}

pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    match refusal(&req) {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(error) => {
            let response = error.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

fn refusal(req: &ServiceRequest) -> Option<ApiError> {
    let method = req.method().as_str();
    if method.len() > LONGEST_METHOD {
        tracing::warn!(bytes = method.len(), "refused a request method too long");
        return Some(ApiError::MethodTooLong);
    }
    let path = req.path();
    if path.len() > LONGEST_PATH {
        tracing::warn!(bytes = path.len(), "refused a request path too long");
        return Some(ApiError::UriTooLong);
    }
    // Probes build no links, so they are answered whatever the host.
    if is_probe(path) {
        return None;
    }
    let state = req.app_data::<web::Data<AppState>>()?;
    state.hosts.admit(req.request()).err()
}
