//! Every failure as its HTTP answer, DRF-shaped. The one place where
//! domain and use-case errors become statuses.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use order_app::AppError;
use order_domain::DomainError;
use order_ports::StoreError;
use serde_json::{json, Value};

/// A failure at the HTTP edge. Its message (`Display`) is the `detail` the caller reads,
/// except for a 500's, which stays in the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    /// Field errors: `{"field": ["message"]}`.
    #[error("invalid input")]
    Validation(BTreeMap<String, Vec<String>>),
    #[error("JSON parse error - {0}")]
    Parse(String),
    #[error("Unsupported media type \"{0}\" in request; send application/json.")]
    UnsupportedMediaType(String),
    #[error("Request body is larger than 64 KiB.")]
    PayloadTooLarge,
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    #[error("{0}")]
    AuthenticationFailed(&'static str),
    #[error("{}", AppError::Forbidden)]
    PermissionDenied,
    #[error("{}", AppError::NotFound)]
    NotFound,
    #[error("{0}")]
    InvalidPage(&'static str),
    /// A documented path asked with a method it does not serve.
    #[error("Method \"{asked}\" not allowed.")]
    MethodNotAllowed {
        /// The method the request came with.
        asked: String,
        /// The path's methods, for the `Allow` header a 405 must carry.
        allow: String,
    },
    #[error("This Idempotency-Key was already used with another request.")]
    IdempotencyKeyReused,
    #[error("A request with this Idempotency-Key is still being processed.")]
    IdempotencyInProgress,
    /// The request carried this credential header more than once.
    #[error("Send one {0} header, not several.")]
    AmbiguousCredentials(&'static str),
    #[error("The request method is too long.")]
    MethodTooLong,
    #[error("The request path is too long.")]
    UriTooLong,
    /// A `Host` (or trusted forwarded host) that is malformed or not in `ALLOWED_HOSTS`.
    #[error("The Host header names no host this service answers for.")]
    InvalidHost,
    /// Something the service itself got wrong (a representation that did not serialize,
    /// a part missing at start): logged, answered 500.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(BTreeMap::from([(field.into(), vec![message.into()])]))
    }

    /// How long the caller should wait before retrying, when the error says (a 503's
    /// `Retry-After`); `None` for the default.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            ApiError::App(AppError::PeerShed { retry_after, .. }) => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether this answer tells the caller to send the same request again — the service
    /// or a peer is away (5xx), the order was busy, or another request changed it first —
    /// rather than being the request's outcome. Such an answer is not kept under an
    /// `Idempotency-Key`: replaying it would keep a careful client retrying for ever.
    pub fn asks_for_a_retry(&self) -> bool {
        // Every error named, so that a new one must be placed here.
        match self {
            ApiError::App(error) => match error {
                AppError::Domain(domain) => *domain == DomainError::OperationInProgress,
                AppError::Store(
                    StoreError::Conflict(_)
                    | StoreError::Stale
                    | StoreError::Unavailable(_)
                    | StoreError::Internal(_),
                )
                | AppError::PeerUnavailable(_)
                | AppError::PeerShed { .. }
                | AppError::PeerFailed { .. } => true,
                AppError::NotFound
                | AppError::Forbidden
                | AppError::Conflict { .. }
                | AppError::PaymentDeclined => false,
            },
            ApiError::IdempotencyInProgress | ApiError::Internal(_) => true,
            // The request's own faults.
            ApiError::Validation(_)
            | ApiError::Parse(_)
            | ApiError::UnsupportedMediaType(_)
            | ApiError::PayloadTooLarge
            | ApiError::NotAuthenticated
            | ApiError::AuthenticationFailed(_)
            | ApiError::PermissionDenied
            | ApiError::NotFound
            | ApiError::InvalidPage(_)
            | ApiError::MethodNotAllowed { .. }
            | ApiError::IdempotencyKeyReused
            | ApiError::AmbiguousCredentials(_)
            | ApiError::MethodTooLong
            | ApiError::UriTooLong
            | ApiError::InvalidHost => false,
        }
    }

    /// The status and DRF-shaped body of this error.
    pub fn reply(&self) -> (StatusCode, Value) {
        let (status, code) = match self {
            ApiError::App(error) => return app_reply(error),
            ApiError::Validation(fields) => return (StatusCode::BAD_REQUEST, json!(fields)),
            ApiError::PermissionDenied => return app_reply(&AppError::Forbidden),
            ApiError::NotFound => return app_reply(&AppError::NotFound),
            ApiError::Internal(error) => {
                tracing::error!(%error, "server error");
                return server_error();
            }
            ApiError::Parse(_) => (StatusCode::BAD_REQUEST, "parse_error"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::NotAuthenticated => (StatusCode::UNAUTHORIZED, "not_authenticated"),
            ApiError::AuthenticationFailed(_) => {
                (StatusCode::UNAUTHORIZED, "authentication_failed")
            }
            ApiError::InvalidPage(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            ApiError::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            ApiError::IdempotencyInProgress => (StatusCode::CONFLICT, "idempotency_in_progress"),
            ApiError::AmbiguousCredentials(_) => (StatusCode::BAD_REQUEST, "ambiguous_credentials"),
            ApiError::MethodTooLong => (StatusCode::BAD_REQUEST, "method_too_long"),
            ApiError::UriTooLong => (StatusCode::URI_TOO_LONG, "uri_too_long"),
            ApiError::InvalidHost => (StatusCode::BAD_REQUEST, "invalid_host"),
        };
        detailed(status, self, code)
    }
}

/// The usual DRF body: `{"detail": message, "code": code}`.
fn detailed(
    status: StatusCode,
    message: &dyn std::fmt::Display,
    code: &str,
) -> (StatusCode, Value) {
    (status, json!({"detail": message.to_string(), "code": code}))
}

/// A 500: what went wrong is the log's, not the caller's.
fn server_error() -> (StatusCode, Value) {
    detailed(
        StatusCode::INTERNAL_SERVER_ERROR,
        &"A server error occurred.",
        "server_error",
    )
}

fn app_reply(error: &AppError) -> (StatusCode, Value) {
    let (status, code) = match error {
        AppError::Domain(domain) => return domain_reply(domain),
        AppError::Store(store) => return store_reply(store),
        AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        AppError::Forbidden => (StatusCode::FORBIDDEN, "permission_denied"),
        AppError::Conflict { code, .. } => (StatusCode::CONFLICT, *code),
        AppError::PaymentDeclined => (StatusCode::PAYMENT_REQUIRED, "insufficient_funds"),
        AppError::PeerUnavailable(_) | AppError::PeerShed { .. } => {
            (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable")
        }
        AppError::PeerFailed { .. } => {
            // What the peer said is for the log; the caller learns only that it refused.
            tracing::error!(%error, "a peer refused a request");
            let refused = "A peer service refused the request.";
            return detailed(StatusCode::BAD_GATEWAY, &refused, "bad_gateway");
        }
    };
    detailed(status, error, code)
}

/// A domain refusal: a 400 for a bad value, a 404 for an offer the dispute does not have,
/// and otherwise a 409 with the refusal's message and code.
fn domain_reply(error: &DomainError) -> (StatusCode, Value) {
    let transition = |status: &str| {
        let body =
            json!({"detail": error.to_string(), "code": "invalid_transition", "status": status});
        (StatusCode::CONFLICT, body)
    };
    let code = match error {
        DomainError::Invalid { field, message } => {
            return (StatusCode::BAD_REQUEST, json!({ *field: [message] }))
        }
        DomainError::OfferNotFound => return app_reply(&AppError::NotFound),
        DomainError::InvalidTransition { status, .. } => return transition(status.as_str()),
        DomainError::InvalidDisputeTransition { from, .. } => return transition(from.as_str()),
        DomainError::EvidenceClosed { status } | DomainError::OffersClosed { status } => {
            return transition(status.as_str())
        }
        DomainError::OfferNotPending { .. } => "offer_not_pending",
        DomainError::OrderCancelled => "order_cancelled",
        DomainError::OrderDisputed => "order_disputed",
        DomainError::NotYetOverdue => "not_yet_overdue",
        DomainError::OperationInProgress => "operation_in_progress",
        DomainError::DisputeExists => "dispute_exists",
        DomainError::EscrowMismatch => "escrow_mismatch",
        DomainError::ListingUnavailable(_) => "listing_unavailable",
    };
    detailed(StatusCode::CONFLICT, error, code)
}

/// The database's failures, none of whose reasons the caller is told.
fn store_reply(error: &StoreError) -> (StatusCode, Value) {
    match error {
        StoreError::Unavailable(reason) => {
            tracing::warn!(%reason, "database unavailable");
            let message = "The service is temporarily unavailable; try again later.";
            detailed(
                StatusCode::SERVICE_UNAVAILABLE,
                &message,
                "service_unavailable",
            )
        }
        StoreError::Stale | StoreError::Conflict(_) => {
            let message = "The resource was changed by another request; reload it and try again.";
            detailed(StatusCode::CONFLICT, &message, "concurrent_update")
        }
        StoreError::Internal(reason) => {
            tracing::error!(%reason, "database error");
            server_error()
        }
    }
}

impl ApiError {
    /// A representation that did not serialize.
    pub fn serializing(error: serde_json::Error) -> ApiError {
        ApiError::Internal(format!("serializing an answer: {error}"))
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        ApiError::App(AppError::Domain(error))
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::App(AppError::Store(error))
    }
}

/// How long a 503 asks callers to wait when nothing more precise is known.
const DEFAULT_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// Builds the HTTP answer for a status and JSON body, with the headers every answer of
/// its status carries.
pub fn respond(status: StatusCode, body: &Value) -> HttpResponse {
    respond_retrying(status, body, None)
}

/// [`respond`], with a 503's `Retry-After` set to `retry_after` (whole seconds, rounded up)
/// instead of the default.
pub fn respond_retrying(
    status: StatusCode,
    body: &Value,
    retry_after: Option<std::time::Duration>,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        let wait = retry_after.unwrap_or(DEFAULT_RETRY_AFTER);
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response.insert_header((header::RETRY_AFTER, seconds.max(1).to_string()));
    }
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    response.json(body)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.reply().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, body) = self.reply();
        let mut response = respond_retrying(status, &body, self.retry_after());
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            if let Ok(allow) = header::HeaderValue::from_str(allow) {
                response.headers_mut().insert(header::ALLOW, allow);
            }
        }
        if self.asks_for_a_retry() {
            response
                .extensions_mut()
                .insert(crate::idempotency::AsksForRetry);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use order_app::Peer;
    use order_domain::dispute::{DisputeStatus, OfferStatus};
    use order_domain::error::ListingUnavailable;
    use order_domain::order::OrderAction;
    use order_domain::OrderStatus;

    use super::*;

    /// Each error's answer, a line each: `STATUS code: detail` for the usual body, or
    /// `STATUS body` for a body of another shape.
    fn answers(errors: impl IntoIterator<Item = ApiError>) -> Vec<String> {
        let line = |error: ApiError| {
            let (status, body) = error.reply();
            let status = status.as_u16();
            match (
                &body["code"],
                &body["detail"],
                body.as_object().map(|o| o.len()),
            ) {
                (Value::String(code), Value::String(detail), Some(2)) => {
                    format!("{status} {code}: {detail}")
                }
                _ => format!("{status} {body}"),
            }
        };
        errors.into_iter().map(line).collect()
    }

    #[test]
    fn every_edge_error_answers_its_status_detail_and_code() {
        let errors = [
            ApiError::Parse("expected value at line 1 column 1".into()),
            ApiError::UnsupportedMediaType("text/plain".into()),
            ApiError::PayloadTooLarge,
            ApiError::NotAuthenticated,
            ApiError::AuthenticationFailed("Token has expired."),
            ApiError::PermissionDenied,
            ApiError::NotFound,
            ApiError::InvalidPage("Invalid page."),
            ApiError::MethodNotAllowed {
                asked: "PATCH".into(),
                allow: "GET, HEAD, OPTIONS".into(),
            },
            ApiError::IdempotencyKeyReused,
            ApiError::IdempotencyInProgress,
            ApiError::AmbiguousCredentials("Authorization"),
            ApiError::MethodTooLong,
            ApiError::UriTooLong,
            ApiError::InvalidHost,
            ApiError::Internal("a part missing at start".into()),
            ApiError::field("price", "A valid number is required."),
        ];
        assert_eq!(
            answers(errors),
            [
                "400 parse_error: JSON parse error - expected value at line 1 column 1",
                r#"415 unsupported_media_type: Unsupported media type "text/plain" in request; send application/json."#,
                "413 payload_too_large: Request body is larger than 64 KiB.",
                "401 not_authenticated: Authentication credentials were not provided.",
                "401 authentication_failed: Token has expired.",
                "403 permission_denied: You do not have permission to perform this action.",
                "404 not_found: Not found.",
                "404 not_found: Invalid page.",
                r#"405 method_not_allowed: Method "PATCH" not allowed."#,
                "422 idempotency_key_reused: This Idempotency-Key was already used with another request.",
                "409 idempotency_in_progress: A request with this Idempotency-Key is still being processed.",
                "400 ambiguous_credentials: Send one Authorization header, not several.",
                "400 method_too_long: The request method is too long.",
                "414 uri_too_long: The request path is too long.",
                "400 invalid_host: The Host header names no host this service answers for.",
                "500 server_error: A server error occurred.",
                r#"400 {"price":["A valid number is required."]}"#,
            ]
        );
    }

    #[test]
    fn every_use_case_error_answers_its_status_detail_and_code() {
        let shed = std::time::Duration::from_secs(3);
        let errors = [
            AppError::NotFound,
            AppError::Forbidden,
            AppError::Conflict {
                code: "listing_sold",
                detail: "This listing was sold.".into(),
            },
            AppError::PaymentDeclined,
            AppError::PeerUnavailable(Peer::Wallet),
            AppError::PeerShed {
                peer: Peer::Listing,
                retry_after: shed,
            },
            AppError::PeerFailed {
                peer: Peer::Wallet,
                detail: "HTTP 400".into(),
            },
            AppError::Store(StoreError::Unavailable("pool timed out".into())),
            AppError::Store(StoreError::Stale),
            AppError::Store(StoreError::Conflict("orders_listing_key".into())),
            AppError::Store(StoreError::Internal("syntax error".into())),
        ];
        assert_eq!(
            answers(errors.map(ApiError::App)),
            [
                "404 not_found: Not found.",
                "403 permission_denied: You do not have permission to perform this action.",
                "409 listing_sold: This listing was sold.",
                "402 insufficient_funds: Payment declined: insufficient funds.",
                "503 service_unavailable: The wallet service is unavailable; try again later.",
                "503 service_unavailable: The listing service is unavailable; try again later.",
                "502 bad_gateway: A peer service refused the request.",
                "503 service_unavailable: The service is temporarily unavailable; try again later.",
                "409 concurrent_update: The resource was changed by another request; reload it and try again.",
                "409 concurrent_update: The resource was changed by another request; reload it and try again.",
                "500 server_error: A server error occurred.",
            ]
        );
    }

    #[test]
    fn every_domain_refusal_answers_its_status_detail_and_code() {
        let errors = [
            DomainError::InvalidTransition {
                action: OrderAction::Ship,
                status: OrderStatus::Completed,
            },
            DomainError::InvalidDisputeTransition {
                from: DisputeStatus::Resolved,
                to: DisputeStatus::Open,
            },
            DomainError::EvidenceClosed {
                status: DisputeStatus::Review,
            },
            DomainError::OffersClosed {
                status: DisputeStatus::Closed,
            },
            DomainError::OfferNotFound,
            DomainError::OfferNotPending {
                status: OfferStatus::Declined,
            },
            DomainError::DisputeExists,
            DomainError::EscrowMismatch,
            DomainError::OperationInProgress,
            DomainError::OrderDisputed,
            DomainError::OrderCancelled,
            DomainError::NotYetOverdue,
            DomainError::ListingUnavailable(ListingUnavailable::NotActive),
            DomainError::invalid("reason", "This field may not be blank."),
        ];
        assert_eq!(
            answers(errors.map(ApiError::from)),
            [
                r#"409 {"detail":"cannot ship an order whose status is COMPLETED","code":"invalid_transition","status":"COMPLETED"}"#,
                r#"409 {"detail":"cannot move a dispute from RESOLVED to OPEN","code":"invalid_transition","status":"RESOLVED"}"#,
                r#"409 {"detail":"evidence cannot be added to a dispute whose status is REVIEW","code":"invalid_transition","status":"REVIEW"}"#,
                r#"409 {"detail":"no offer can be made in a dispute whose status is CLOSED","code":"invalid_transition","status":"CLOSED"}"#,
                "404 not_found: Not found.",
                "409 offer_not_pending: This offer was already accepted, declined or withdrawn.",
                "409 dispute_exists: this order already has a dispute",
                "409 escrow_mismatch: this order is already paid with another escrow",
                "409 operation_in_progress: Another change of this order is moving its money; try again shortly.",
                "409 order_disputed: This order's dispute is open; settle it through the dispute.",
                "409 order_cancelled: This order was cancelled; it can no longer be paid.",
                "409 not_yet_overdue: The seller may still ship this order; it can be cancelled once its ship_by has passed.",
                "409 listing_unavailable: This listing is not active.",
                r#"400 {"reason":["This field may not be blank."]}"#,
            ]
        );
    }

    #[test]
    fn a_busy_order_a_lost_write_race_and_an_absent_database_ask_for_a_retry() {
        for error in [
            ApiError::from(DomainError::OperationInProgress),
            ApiError::IdempotencyInProgress,
            ApiError::from(StoreError::Stale),
            ApiError::from(StoreError::Conflict("orders_listing_key".into())),
            ApiError::from(StoreError::Unavailable("connection refused".into())),
        ] {
            assert!(error.asks_for_a_retry(), "{error:?}");
        }
    }

    #[test]
    fn a_refusal_is_the_requests_outcome_not_a_request_to_retry() {
        for error in [
            ApiError::from(DomainError::InvalidTransition {
                action: OrderAction::Ship,
                status: OrderStatus::Completed,
            }),
            ApiError::App(AppError::Conflict {
                code: "listing_sold",
                detail: "sold".into(),
            }),
            ApiError::field("price", "A valid number is required."),
            ApiError::IdempotencyKeyReused,
        ] {
            assert!(!error.asks_for_a_retry(), "{error:?}");
        }
    }
}
