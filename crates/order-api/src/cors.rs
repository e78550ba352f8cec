//! Cross-origin requests from browser front ends (`CORS_ALLOWED_ORIGINS`), with the
//! ecosystem's middleware rather than hand-written headers.

use actix_cors::Cors;
use actix_web::http::header;

/// The policy for `origins` (the service applies it only when there are some: CORS is off
/// by default). Preflights are answered before authentication; a browser may send the
/// credentials and headers a client of this API needs, and read `Retry-After`, `ETag` and
/// the request id.
pub fn policy(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PATCH", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::ACCEPT,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
            // A browser's tracing (OpenTelemetry web) continues its trace into the service.
            header::HeaderName::from_static("traceparent"),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::ETAG,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("idempotent-replayed"),
        ])
        .supports_credentials()
        .max_age(3600);
    origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}
