//! The service's refusals, read from the two shapes its answers take (those of Django REST
//! Framework): field errors (`{"field": ["message", …]}`) and a detail with a stable code
//! (`{"detail": "…", "code": "…"}`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Why a call did not return what it asked for.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400 with field errors: each refused field with its messages (`non_field_errors` for
    /// the request as a whole). Nothing changed; correct the request before sending it again.
    #[error("the request was refused: {0}")]
    Invalid(FieldErrors),
    /// The service refused the request with a detail and a stable code: a 401, 403, 404,
    /// 402, 409, 422, 503… Nothing changed, except as the code says.
    #[error("{0}")]
    Refused(Refusal),
    /// The service could not be reached, or its answer was cut off, on every attempt.
    /// A write may have happened: send it again with the same Idempotency-Key to find out.
    #[error("the Order Service could not be reached: {0}")]
    Transport(#[source] reqwest::Error),
    /// The request could not be built, so nothing was sent: a base URL that makes no URL,
    /// an Idempotency-Key that is not printable ASCII, a body that does not serialize.
    #[error("the request was not sent: {0}")]
    InvalidRequest(String),
    /// An answer in none of the service's documented shapes (a proxy's error page, or a
    /// body this version cannot read).
    #[error("unexpected answer {status}: {message}")]
    Unexpected {
        /// Its HTTP status.
        status: u16,
        /// What could not be read, with the start of the body.
        message: String,
    },
}

impl Error {
    /// The HTTP status of the service's answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Invalid(_) => Some(400),
            Error::Refused(refusal) => Some(refusal.status),
            Error::Unexpected { status, .. } => Some(*status),
            Error::Transport(_) | Error::InvalidRequest(_) => None,
        }
    }

    /// The refusal's code, for a refusal with one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Refused(refusal) => Some(&refusal.code),
            _ => None,
        }
    }

    /// Reads a failed answer: `status` with `body`, and the `Retry-After` it carried.
    pub(crate) fn from_answer(status: u16, body: &[u8], retry_after: Option<Duration>) -> Error {
        #[derive(Deserialize)]
        struct Detail {
            detail: String,
            code: String,
            #[serde(default)]
            status: Option<String>,
        }
        if let Ok(detail) = serde_json::from_slice::<Detail>(body) {
            return Error::Refused(Refusal {
                status,
                code: ErrorCode::from(detail.code.as_str()),
                detail: detail.detail,
                current_status: detail.status,
                retry_after,
            });
        }
        if status == 400 {
            if let Ok(fields) = serde_json::from_slice::<BTreeMap<String, Vec<String>>>(body) {
                if !fields.is_empty() {
                    return Error::Invalid(FieldErrors(fields));
                }
            }
        }
        Error::unexpected(status, "no error of a documented shape", body)
    }

    /// An answer that could not be read as what was expected.
    pub(crate) fn unexpected(status: u16, why: impl fmt::Display, body: &[u8]) -> Error {
        let start = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        Error::Unexpected {
            status,
            message: format!("{why}: {start}"),
        }
    }
}

/// The fields a 400 refused, each with its messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// The messages about `field`; empty when it was not refused.
    pub fn of(&self, field: &str) -> &[String] {
        self.0.get(field).map(Vec::as_slice).unwrap_or_default()
    }

    /// The refused fields' names, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, messages) in &self.0 {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{field}: {}", messages.join(" "))?;
        }
        Ok(())
    }
}

/// A refusal with a detail and a stable code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// What a program branches on.
    pub code: ErrorCode,
    /// What a person reads.
    pub detail: String,
    /// The order's or the dispute's status when the refusal is `invalid_transition`.
    pub current_status: Option<String>,
    /// How long the service asked its callers to wait (a 503's `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// The stable code of a refusal. A code this version does not know is kept as
        /// [`ErrorCode::Other`], so that a newer service's codes still reach the caller.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
            /// A code added after this version, by its name.
            Other(String),
        }

        impl ErrorCode {
            /// The code as the service sends it (`invalid_transition`).
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Other(code) => code,
                }
            }
        }

        impl From<&str> for ErrorCode {
            fn from(code: &str) -> ErrorCode {
                match code {
                    $($code => ErrorCode::$variant,)*
                    other => ErrorCode::Other(other.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    /// 401: no credentials were sent.
    NotAuthenticated = "not_authenticated",
    /// 401: the credentials (a token, a carrier's signature) were refused.
    AuthenticationFailed = "authentication_failed",
    /// 403: the caller may not do this to this order.
    PermissionDenied = "permission_denied",
    /// 404: no such order, dispute, offer or page (or not one the caller may see).
    NotFound = "not_found",
    /// 402: the buyer's wallet cannot pay.
    InsufficientFunds = "insufficient_funds",
    /// 409: the order or dispute is not in a status that allows this; see
    /// [`Refusal::current_status`].
    InvalidTransition = "invalid_transition",
    /// 409: the offer was already accepted, declined or withdrawn.
    OfferNotPending = "offer_not_pending",
    /// 409: the order was cancelled.
    OrderCancelled = "order_cancelled",
    /// 409: the order is disputed: settle it through its dispute.
    OrderDisputed = "order_disputed",
    /// 409: the deadline this needs has not passed yet.
    NotYetOverdue = "not_yet_overdue",
    /// 409: another change of this order's money is under way; try again shortly.
    OperationInProgress = "operation_in_progress",
    /// 409: the order already has a dispute.
    DisputeExists = "dispute_exists",
    /// 409: the escrow named is not this order's.
    EscrowMismatch = "escrow_mismatch",
    /// 409: the listing cannot be bought now.
    ListingUnavailable = "listing_unavailable",
    /// 409: the listing was bought by someone else.
    ListingSold = "listing_sold",
    /// 409: the auction's order exists already, with other terms.
    OrderExists = "order_exists",
    /// 409: another request changed the order first; try again.
    ConcurrentUpdate = "concurrent_update",
    /// 409: a request with this Idempotency-Key is still being processed.
    IdempotencyInProgress = "idempotency_in_progress",
    /// 422: this Idempotency-Key was used before with another request.
    IdempotencyKeyReused = "idempotency_key_reused",
    /// 400: the body is not JSON.
    ParseError = "parse_error",
    /// 400: a credential header was sent more than once.
    AmbiguousCredentials = "ambiguous_credentials",
    /// 415: the body is not `application/json`.
    UnsupportedMediaType = "unsupported_media_type",
    /// 413: the body is too large.
    PayloadTooLarge = "payload_too_large",
    /// 405: the path does not take this method.
    MethodNotAllowed = "method_not_allowed",
    /// 503: the service or a peer it needs is away; try again after `Retry-After`.
    ServiceUnavailable = "service_unavailable",
    /// 502: a peer refused the service's call.
    BadGateway = "bad_gateway",
    /// 500: the service failed.
    ServerError = "server_error",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_are_read_as_invalid_with_every_field() {
        let body = br#"{"reason": ["Too short."], "evidence": ["Not a URL.", "Too many."]}"#;
        let Error::Invalid(fields) = Error::from_answer(400, body, None) else {
            panic!("field errors");
        };
        assert_eq!(fields.of("reason"), ["Too short."]);
        assert_eq!(fields.of("evidence").len(), 2);
        assert!(fields.of("carrier").is_empty());
    }

    #[test]
    fn a_detail_is_read_with_its_code_and_the_current_status() {
        let body = br#"{"detail": "Cannot complete a PAID order.", "code": "invalid_transition", "status": "PAID"}"#;
        let Error::Refused(refusal) = Error::from_answer(409, body, None) else {
            panic!("a refusal");
        };
        assert_eq!(refusal.code, ErrorCode::InvalidTransition);
        assert_eq!(refusal.current_status.as_deref(), Some("PAID"));
        assert_eq!(refusal.status, 409);
    }

    #[test]
    fn a_code_this_version_does_not_know_is_kept_by_name() {
        let body = br#"{"detail": "Slow down.", "code": "rate_limited"}"#;
        let error = Error::from_answer(429, body, Some(Duration::from_secs(3)));
        assert_eq!(error.code(), Some(&ErrorCode::Other("rate_limited".into())));
        assert_eq!(error.status(), Some(429));
    }

    #[test]
    fn a_body_of_no_documented_shape_is_unexpected() {
        let error = Error::from_answer(502, b"<html>Bad gateway</html>", None);
        assert!(
            matches!(error, Error::Unexpected { status: 502, .. }),
            "{error:?}"
        );
        let error = Error::from_answer(400, b"{}", None);
        assert!(
            matches!(error, Error::Unexpected { status: 400, .. }),
            "{error:?}"
        );
    }
}
