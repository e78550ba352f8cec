//! Who is calling: users by JWT, services by `X-Service-Token`. Credentials must be
//! unambiguous: a header sent twice is refused rather than resolved, since a proxy that
//! checked the other copy would disagree with the service about who called.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use order_app::Caller;
use order_domain::UserId;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::config::JwtKey;
use crate::error::ApiError;
use crate::state::AppState;

/// The claims this service reads from a user's token.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: UserId,
    #[serde(default)]
    is_staff: bool,
    /// When it was issued, in seconds since the epoch; read only under `JWT_MAX_AGE`.
    #[serde(default)]
    iat: Option<f64>,
}

/// The clock skew forgiven between the identity provider and this service, on `exp`,
/// `nbf` and `iat` alike.
const LEEWAY_SECONDS: u64 = 30;

/// Verifies the credentials of a request.
pub struct Authenticator {
    key: DecodingKey,
    validation: Validation,
    /// `JWT_MAX_AGE`: a token issued longer ago than this is refused, whatever its `exp`.
    max_age: Option<std::time::Duration>,
    service_tokens: Vec<Vec<u8>>,
}

/// The credentials a request presented.
#[derive(Clone, Copy)]
enum Presented {
    Nothing,
    User { id: UserId, is_staff: bool },
    Service { token_index: usize },
}

impl Authenticator {
    /// `audience` and `issuer`, when given, must be a token's `aud` and `iss` (a token
    /// without them is refused); when not, whatever a token says of them is ignored, so
    /// that tokens of any standard identity provider work. With `max_age`, a token must
    /// say when it was issued (`iat`), no longer ago than that.
    pub fn new(
        jwt: &JwtKey,
        service_tokens: &[String],
        audience: Option<&str>,
        issuer: Option<&str>,
        max_age: Option<std::time::Duration>,
    ) -> Result<Authenticator, String> {
        let (key, algorithm) = match jwt {
            JwtKey::Secret(secret) => (
                DecodingKey::from_secret(secret.as_bytes()),
                Algorithm::HS256,
            ),
            JwtKey::PublicKey(pem) => (
                DecodingKey::from_rsa_pem(pem.as_bytes())
                    .map_err(|e| format!("JWT_PUBLIC_KEY: {e}"))?,
                Algorithm::RS256,
            ),
            // A secret nobody knows: every user token fails verification.
            JwtKey::Unset => (
                DecodingKey::from_secret(uuid::Uuid::new_v4().as_bytes()),
                Algorithm::HS256,
            ),
        };
        // Only the configured algorithm: `alg: none` and algorithm swaps are refused.
        let mut validation = Validation::new(algorithm);
        let mut required = vec!["exp", "sub"];
        match audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        validation.leeway = LEEWAY_SECONDS;
        // A token not valid yet is refused as an expired one is.
        validation.validate_nbf = true;
        Ok(Authenticator {
            key,
            validation,
            max_age,
            service_tokens: service_tokens
                .iter()
                .map(|t| t.as_bytes().to_vec())
                .collect(),
        })
    }

    fn presented(&self, req: &HttpRequest) -> Result<Presented, ApiError> {
        let service_token = single(req, "X-Service-Token")?;
        let authorization = single(req, "Authorization")?;
        if let Some(token) = service_token {
            let token = token.as_bytes();
            // Every configured token is compared, in constant time, so that neither the
            // match nor its position leaks through timing.
            let mut found = None;
            for (index, known) in self.service_tokens.iter().enumerate() {
                if bool::from(known.as_slice().ct_eq(token)) {
                    found = Some(index);
                }
            }
            return match found {
                Some(token_index) => Ok(Presented::Service { token_index }),
                None => Err(ApiError::AuthenticationFailed("Invalid service token.")),
            };
        }
        let Some(header) = authorization else {
            return Ok(Presented::Nothing);
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::AuthenticationFailed(
                "Invalid Authorization header.",
            ))?;
        let claims = decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|_| ApiError::AuthenticationFailed("Invalid or expired token."))?
            .claims;
        if let Some(max_age) = self.max_age {
            if !issued_within(claims.iat, max_age) {
                return Err(ApiError::AuthenticationFailed(
                    "The token was issued too long ago; sign in again.",
                ));
            }
        }
        Ok(Presented::User {
            id: claims.sub,
            is_staff: claims.is_staff,
        })
    }
}

/// The one value of header `name`, if sent; sent more than once, it is refused.
pub(crate) fn single<'r>(
    req: &'r HttpRequest,
    name: &'static str,
) -> Result<Option<&'r actix_web::http::header::HeaderValue>, ApiError> {
    let mut values = req.headers().get_all(name);
    let first = values.next();
    match values.next() {
        Some(_) => Err(ApiError::AmbiguousCredentials(name)),
        None => Ok(first),
    }
}

/// Whether a token issued at `iat` is at most `max_age` old (and not issued in the future),
/// by this service's clock and within the leeway. A token that does not say is not.
fn issued_within(iat: Option<f64>, max_age: std::time::Duration) -> bool {
    let Some(iat) = iat else {
        return false;
    };
    let now = chrono::Utc::now().timestamp() as f64;
    let leeway = LEEWAY_SECONDS as f64;
    iat <= now + leeway && now - iat <= max_age.as_secs_f64() + leeway
}

/// The request's credentials, verified once: the idempotency middleware and the handler's
/// extractor both ask, and a token's signature is checked only the first time.
fn presented(req: &HttpRequest) -> Result<Presented, ApiError> {
    if let Some(known) = req.extensions().get::<Presented>() {
        return Ok(*known);
    }
    let presented = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("the app state is not registered".into()))?
        .auth
        .presented(req)?;
    req.extensions_mut().insert(presented);
    Ok(presented)
}

/// The scope of the idempotency keys of the request's caller: its user, or which service
/// token it presented; `None` without valid credentials.
pub fn idempotency_scope(req: &HttpRequest) -> Option<String> {
    match presented(req) {
        Ok(Presented::User { id, .. }) => Some(format!("user:{id}")),
        Ok(Presented::Service { token_index }) => Some(format!("service:{token_index}")),
        Ok(Presented::Nothing) | Err(_) => None,
    }
}

/// A user authenticated by JWT. Services are refused (403): user endpoints act for a user.
pub struct User(pub Caller);

/// A service authenticated by `X-Service-Token`. Users are refused (403).
pub struct Service;

/// A user or a service (Buy It Now may be called by either).
pub struct UserOrService(pub Caller);

impl FromRequest for User {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match presented(req) {
            Ok(Presented::User { id, is_staff }) => Ok(User(Caller::User { id, is_staff })),
            Ok(Presented::Service { .. }) => Err(ApiError::PermissionDenied),
            Ok(Presented::Nothing) => Err(ApiError::NotAuthenticated),
            Err(error) => Err(error),
        })
    }
}

impl FromRequest for Service {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match presented(req) {
            Ok(Presented::Service { .. }) => Ok(Service),
            Ok(Presented::User { .. }) => Err(ApiError::PermissionDenied),
            Ok(Presented::Nothing) => Err(ApiError::NotAuthenticated),
            Err(error) => Err(error),
        })
    }
}

impl FromRequest for UserOrService {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match presented(req) {
            Ok(Presented::Service { .. }) => Ok(UserOrService(Caller::Service)),
            Ok(Presented::User { id, is_staff }) => {
                Ok(UserOrService(Caller::User { id, is_staff }))
            }
            Ok(Presented::Nothing) => Err(ApiError::NotAuthenticated),
            Err(error) => Err(error),
        })
    }
}
