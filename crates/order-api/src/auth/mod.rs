//! Who is calling: users by JWT, services by `X-Service-Token`. Credentials must be
//! unambiguous: a header sent twice is refused rather than resolved, since a proxy that
//! checked the other copy would disagree with the service about who called.
//!
//! A request's credentials are verified once, by [`authenticate`] before anything reads
//! them: asynchronously, since a token may name a key of the identity provider's key set
//! that has not been fetched yet ([`jwks`]).

pub mod jwks;

use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use order_app::Caller;
use order_domain::UserId;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use self::jwks::{Jwks, SigningKey};
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
    /// The key of a token that names no `kid` of the key set: `JWT_SECRET` (HS256) or
    /// `JWT_PUBLIC_KEY` (RS256); `None` when neither is set.
    fixed: Option<SigningKey>,
    /// `JWT_JWKS_URL`: the keys a token names by `kid` (RS256, ES256).
    jwks: Option<Jwks>,
    /// The checks of every token, one per algorithm a key may verify: each key accepts
    /// only its own, so `alg: none` and algorithm swaps are refused.
    validations: [Validation; 3],
    /// `JWT_MAX_AGE`: a token issued longer ago than this is refused, whatever its `exp`.
    max_age: Option<std::time::Duration>,
    service_tokens: Vec<Vec<u8>>,
}

/// The algorithms a key of this service verifies, in the order of `validations`.
const ALGORITHMS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256];

/// Where user tokens' keys come from and what a token must say; see [`Authenticator::new`].
pub struct TokenRules<'a> {
    pub key: &'a JwtKey,
    /// `JWT_JWKS_URL`, and the least time between two fetches of it.
    pub jwks: Option<(&'a str, std::time::Duration)>,
    pub audience: Option<&'a str>,
    pub issuer: Option<&'a str>,
    pub max_age: Option<std::time::Duration>,
}

/// The credentials a request presented.
#[derive(Clone, Copy)]
enum Presented {
    Nothing,
    User { id: UserId, is_staff: bool },
    Service { token_index: usize },
}

/// Why a request's credentials were refused.
#[derive(Clone, Copy)]
enum Refused {
    Ambiguous(&'static str),
    Failed(&'static str),
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> ApiError {
        match refused {
            Refused::Ambiguous(header) => ApiError::AmbiguousCredentials(header),
            Refused::Failed(why) => ApiError::AuthenticationFailed(why),
        }
    }
}

/// What [`authenticate`] found, kept with the request for everything after it.
#[derive(Clone, Copy)]
struct Verified(Result<Presented, Refused>);

const INVALID_TOKEN: Refused = Refused::Failed("Invalid or expired token.");

impl Authenticator {
    /// `audience` and `issuer`, when given, must be a token's `aud` and `iss` (a token
    /// without them is refused); when not, whatever a token says of them is ignored, so
    /// that tokens of any standard identity provider work. With `max_age`, a token must
    /// say when it was issued (`iat`), no longer ago than that. A token naming a `kid` of
    /// the key set is verified with that key only, by its algorithm; any other token with
    /// the fixed key, if one is set.
    pub fn new(rules: TokenRules<'_>, service_tokens: &[String]) -> Result<Authenticator, String> {
        let fixed = match rules.key {
            JwtKey::Secret(secret) => Some(SigningKey {
                key: DecodingKey::from_secret(secret.as_bytes()),
                algorithm: Algorithm::HS256,
            }),
            JwtKey::PublicKey(pem) => Some(SigningKey {
                key: DecodingKey::from_rsa_pem(pem.as_bytes())
                    .map_err(|e| format!("JWT_PUBLIC_KEY: {e}"))?,
                algorithm: Algorithm::RS256,
            }),
            JwtKey::Unset => None,
        };
        let jwks = rules
            .jwks
            .map(|(url, refetch_after)| Jwks::new(url.to_owned(), refetch_after))
            .transpose()?;
        let validations = ALGORITHMS.map(|algorithm| {
            let mut validation = Validation::new(algorithm);
            let mut required = vec!["exp", "sub"];
            match rules.audience {
                Some(audience) => {
                    validation.set_audience(&[audience]);
                    required.push("aud");
                }
                None => validation.validate_aud = false,
            }
            if let Some(issuer) = rules.issuer {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            validation.set_required_spec_claims(&required);
            validation.leeway = LEEWAY_SECONDS;
            // A token not valid yet is refused as an expired one is.
            validation.validate_nbf = true;
            validation
        });
        Ok(Authenticator {
            fixed,
            jwks,
            validations,
            max_age: rules.max_age,
            service_tokens: service_tokens
                .iter()
                .map(|t| t.as_bytes().to_vec())
                .collect(),
        })
    }

    /// Fetches the key set, if there is one: at start, so that the first user waits for
    /// nothing.
    pub async fn prefetch(&self) {
        if let Some(jwks) = &self.jwks {
            jwks.refresh().await;
        }
    }

    /// Whether user tokens can be verified at all: not when the only source of keys is a
    /// key set that has never been fetched (or holds none this service can use). Tries a
    /// fetch first, no more often than the set allows.
    pub async fn has_signing_keys(&self) -> bool {
        match (&self.fixed, &self.jwks) {
            (None, Some(jwks)) if jwks.is_empty() => {
                jwks.refresh().await;
                !jwks.is_empty()
            }
            _ => true,
        }
    }

    async fn presented(&self, req: &HttpRequest) -> Result<Presented, Refused> {
        let service_token = single(req, "X-Service-Token").map_err(Refused::Ambiguous)?;
        let authorization = single(req, "Authorization").map_err(Refused::Ambiguous)?;
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
                None => Err(Refused::Failed("Invalid service token.")),
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
            .ok_or(Refused::Failed("Invalid Authorization header."))?;
        let claims = self.verify(token).await?;
        if let Some(max_age) = self.max_age {
            if !issued_within(claims.iat, max_age) {
                return Err(Refused::Failed(
                    "The token was issued too long ago; sign in again.",
                ));
            }
        }
        Ok(Presented::User {
            id: claims.sub,
            is_staff: claims.is_staff,
        })
    }

    /// The claims of `token`, verified with the key it names or else the fixed key.
    async fn verify(&self, token: &str) -> Result<Claims, Refused> {
        let header = decode_header(token).map_err(|_| INVALID_TOKEN)?;
        let named = match (&self.jwks, header.kid.as_deref()) {
            (Some(jwks), Some(kid)) => jwks.key(kid).await,
            _ => None,
        };
        let key = named
            .as_deref()
            .or(self.fixed.as_ref())
            .ok_or(INVALID_TOKEN)?;
        let validation = ALGORITHMS
            .iter()
            .position(|algorithm| *algorithm == key.algorithm)
            .map(|at| &self.validations[at])
            .ok_or(INVALID_TOKEN)?;
        decode::<Claims>(token, &key.key, validation)
            .map(|data| data.claims)
            .map_err(|_| INVALID_TOKEN)
    }
}

/// Verifies the request's credentials, once, before anything reads them: the idempotency
/// layer scopes keys by caller, and the handlers' extractors decide who may act.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = req.app_data::<web::Data<AppState>>().cloned() {
        let verified = Verified(state.auth.presented(req.request()).await);
        req.extensions_mut().insert(verified);
    }
    next.call(req).await
}

/// The one value of header `name`, if sent; sent more than once, it is refused.
pub(crate) fn single<'r>(
    req: &'r HttpRequest,
    name: &'static str,
) -> Result<Option<&'r actix_web::http::header::HeaderValue>, &'static str> {
    let mut values = req.headers().get_all(name);
    let first = values.next();
    match values.next() {
        Some(_) => Err(name),
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

/// The request's credentials, as [`authenticate`] verified them.
fn presented(req: &HttpRequest) -> Result<Presented, ApiError> {
    match req.extensions().get::<Verified>() {
        Some(Verified(verified)) => verified.map_err(ApiError::from),
        None => Err(ApiError::Internal(
            "credentials read before they were verified".into(),
        )),
    }
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

/// An extractor's answer from the request's verified credentials: `accept` decides what a
/// caller who presented some may do here; one who presented none is not authenticated.
fn extract<T>(
    req: &HttpRequest,
    accept: impl FnOnce(Presented) -> Option<T>,
) -> Ready<Result<T, ApiError>> {
    ready(presented(req).and_then(|presented| match presented {
        Presented::Nothing => Err(ApiError::NotAuthenticated),
        presented => accept(presented).ok_or(ApiError::PermissionDenied),
    }))
}

impl FromRequest for User {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |presented| match presented {
            Presented::User { id, is_staff } => Some(User(Caller::User { id, is_staff })),
            _ => None,
        })
    }
}

impl FromRequest for Service {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |presented| match presented {
            Presented::Service { .. } => Some(Service),
            _ => None,
        })
    }
}

impl FromRequest for UserOrService {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |presented| match presented {
            Presented::Service { .. } => Some(UserOrService(Caller::Service)),
            Presented::User { id, is_staff } => Some(UserOrService(Caller::User { id, is_staff })),
            Presented::Nothing => None,
        })
    }
}
