//! Every failure as its HTTP answer, DRF-shaped. The one place where
//! domain and use-case errors become statuses.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use order_app::AppError;
use order_domain::DomainError;
use order_ports::StoreError;
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    /// Field errors: `{"field": ["message"]}`.
    #[error("invalid input")]
    Validation(BTreeMap<String, Vec<String>>),
    #[error("JSON parse error - {0}")]
    Parse(String),
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("not authenticated")]
    NotAuthenticated,
    #[error("{0}")]
    AuthenticationFailed(&'static str),
    #[error("permission denied")]
    PermissionDenied,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    InvalidPage(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed(String),
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    #[error("idempotency key in progress")]
    IdempotencyInProgress,
    /// The request carried this credential header more than once.
    #[error("more than one {0} header")]
    AmbiguousCredentials(&'static str),
    #[error("request method too long")]
    MethodTooLong,
    #[error("request path too long")]
    UriTooLong,
    /// A `Host` (or trusted forwarded host) that is malformed or not in `ALLOWED_HOSTS`.
    #[error("host not served")]
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
            | ApiError::MethodNotAllowed(_)
            | ApiError::IdempotencyKeyReused
            | ApiError::AmbiguousCredentials(_)
            | ApiError::MethodTooLong
            | ApiError::UriTooLong
            | ApiError::InvalidHost => false,
        }
    }

    /// The status and DRF-shaped body of this error.
    pub fn reply(&self) -> (StatusCode, Value) {
        let detail = |status: StatusCode, detail: &str, code: &str| {
            (status, json!({"detail": detail, "code": code}))
        };
        match self {
            ApiError::App(error) => app_reply(error),
            ApiError::Validation(fields) => (StatusCode::BAD_REQUEST, json!(fields)),
            ApiError::Parse(message) => detail(
                StatusCode::BAD_REQUEST,
                &format!("JSON parse error - {message}"),
                "parse_error",
            ),
            ApiError::UnsupportedMediaType(media) => detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("Unsupported media type \"{media}\" in request; send application/json."),
                "unsupported_media_type",
            ),
            ApiError::PayloadTooLarge => detail(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body is larger than 64 KiB.",
                "payload_too_large",
            ),
            ApiError::NotAuthenticated => detail(
                StatusCode::UNAUTHORIZED,
                "Authentication credentials were not provided.",
                "not_authenticated",
            ),
            ApiError::AuthenticationFailed(message) => {
                detail(StatusCode::UNAUTHORIZED, message, "authentication_failed")
            }
            ApiError::PermissionDenied => app_reply(&AppError::Forbidden),
            ApiError::NotFound => app_reply(&AppError::NotFound),
            ApiError::InvalidPage(message) => detail(StatusCode::NOT_FOUND, message, "not_found"),
            ApiError::MethodNotAllowed(method) => detail(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("Method \"{method}\" not allowed."),
                "method_not_allowed",
            ),
            ApiError::IdempotencyKeyReused => detail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "This Idempotency-Key was already used with another request.",
                "idempotency_key_reused",
            ),
            ApiError::IdempotencyInProgress => detail(
                StatusCode::CONFLICT,
                "A request with this Idempotency-Key is still being processed.",
                "idempotency_in_progress",
            ),
            ApiError::AmbiguousCredentials(header) => detail(
                StatusCode::BAD_REQUEST,
                &format!("Send one {header} header, not several."),
                "ambiguous_credentials",
            ),
            ApiError::MethodTooLong => detail(
                StatusCode::BAD_REQUEST,
                "The request method is too long.",
                "method_too_long",
            ),
            ApiError::UriTooLong => detail(
                StatusCode::URI_TOO_LONG,
                "The request path is too long.",
                "uri_too_long",
            ),
            ApiError::InvalidHost => detail(
                StatusCode::BAD_REQUEST,
                "The Host header names no host this service answers for.",
                "invalid_host",
            ),
            ApiError::Internal(error) => {
                tracing::error!(%error, "server error");
                detail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "A server error occurred.",
                    "server_error",
                )
            }
        }
    }
}

fn app_reply(error: &AppError) -> (StatusCode, Value) {
    let detail = |status: StatusCode, detail: String, code: &str| {
        (status, json!({"detail": detail, "code": code}))
    };
    let transition = |detail: String, status: &str| {
        (
            StatusCode::CONFLICT,
            json!({"detail": detail, "code": "invalid_transition", "status": status}),
        )
    };
    match error {
        AppError::NotFound => detail(StatusCode::NOT_FOUND, "Not found.".into(), "not_found"),
        AppError::Forbidden => detail(
            StatusCode::FORBIDDEN,
            error.to_string(),
            "permission_denied",
        ),
        AppError::Domain(domain) => match domain {
            DomainError::Invalid { field, message } => {
                (StatusCode::BAD_REQUEST, json!({ *field: [message] }))
            }
            DomainError::InvalidTransition { status, .. } => {
                transition(domain.to_string(), status.as_str())
            }
            DomainError::InvalidDisputeTransition { from, .. } => {
                transition(domain.to_string(), from.as_str())
            }
            DomainError::EvidenceClosed { status } | DomainError::OffersClosed { status } => {
                transition(domain.to_string(), status.as_str())
            }
            DomainError::OfferNotFound => {
                detail(StatusCode::NOT_FOUND, "Not found.".into(), "not_found")
            }
            DomainError::OfferNotPending { .. } => detail(
                StatusCode::CONFLICT,
                domain.to_string(),
                "offer_not_pending",
            ),
            DomainError::OrderCancelled => {
                detail(StatusCode::CONFLICT, domain.to_string(), "order_cancelled")
            }
            DomainError::OrderDisputed => {
                detail(StatusCode::CONFLICT, domain.to_string(), "order_disputed")
            }
            DomainError::NotYetOverdue => {
                detail(StatusCode::CONFLICT, domain.to_string(), "not_yet_overdue")
            }
            DomainError::OperationInProgress => detail(
                StatusCode::CONFLICT,
                domain.to_string(),
                "operation_in_progress",
            ),
            DomainError::DisputeExists => {
                detail(StatusCode::CONFLICT, domain.to_string(), "dispute_exists")
            }
            DomainError::EscrowMismatch => {
                detail(StatusCode::CONFLICT, domain.to_string(), "escrow_mismatch")
            }
            DomainError::ListingUnavailable(_) => detail(
                StatusCode::CONFLICT,
                domain.to_string(),
                "listing_unavailable",
            ),
        },
        AppError::Conflict { code, detail: text } => {
            detail(StatusCode::CONFLICT, text.clone(), code)
        }
        AppError::PaymentDeclined => detail(
            StatusCode::PAYMENT_REQUIRED,
            error.to_string(),
            "insufficient_funds",
        ),
        AppError::PeerUnavailable(_) | AppError::PeerShed { .. } => detail(
            StatusCode::SERVICE_UNAVAILABLE,
            error.to_string(),
            "service_unavailable",
        ),
        AppError::PeerFailed { .. } => {
            tracing::error!(%error, "a peer refused a request");
            detail(
                StatusCode::BAD_GATEWAY,
                "A peer service refused the request.".into(),
                "bad_gateway",
            )
        }
        AppError::Store(StoreError::Unavailable(reason)) => {
            tracing::warn!(%reason, "database unavailable");
            detail(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable; try again later.".into(),
                "service_unavailable",
            )
        }
        AppError::Store(StoreError::Stale | StoreError::Conflict(_)) => detail(
            StatusCode::CONFLICT,
            "The resource was changed by another request; reload it and try again.".into(),
            "concurrent_update",
        ),
        AppError::Store(StoreError::Internal(reason)) => {
            tracing::error!(%reason, "database error");
            detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "A server error occurred.".into(),
                "server_error",
            )
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
            ApiError::MethodNotAllowed("PATCH".into()),
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
