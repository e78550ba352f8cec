//! Handler answers, field-error collection, and `Idempotency-Key` replay for POSTs.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use order_domain::DomainError;
use order_postgres::Claim;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{respond, respond_retrying, ApiError};
use crate::state::AppState;

/// A successful answer: its status and JSON body.
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
        }
    }

    pub fn created(body: Value) -> Reply {
        Reply {
            status: StatusCode::CREATED,
            body,
        }
    }
}

pub type Handled = Result<Reply, ApiError>;

/// A handler's answer on the wire.
struct Outcome {
    status: StatusCode,
    body: Value,
    /// How long a 503 asks the caller to wait.
    retry_after: Option<Duration>,
    /// See [`ApiError::asks_for_a_retry`].
    asks_for_a_retry: bool,
}

impl From<Handled> for Outcome {
    fn from(handled: Handled) -> Outcome {
        match handled {
            Ok(reply) => Outcome {
                status: reply.status,
                body: reply.body,
                retry_after: None,
                asks_for_a_retry: false,
            },
            Err(error) => {
                let (status, body) = error.reply();
                Outcome {
                    status,
                    body,
                    retry_after: error.retry_after(),
                    asks_for_a_retry: error.asks_for_a_retry(),
                }
            }
        }
    }
}

impl Outcome {
    fn render(&self) -> HttpResponse {
        respond_retrying(self.status, &self.body, self.retry_after)
    }
}

pub fn render(handled: Handled) -> HttpResponse {
    Outcome::from(handled).render()
}

/// A read's answer with its `ETag` — a digest of the representation, so it changes with
/// anything the caller would see change — or `304 Not Modified` when the request's
/// `If-None-Match` already names it, so that polling clients and caches save the body.
pub fn cacheable(req: &HttpRequest, body: &impl serde::Serialize) -> HttpResponse {
    use actix_web::http::header::{ETAG, IF_NONE_MATCH};
    let bytes = serde_json::to_vec(body).expect("a representation always serializes");
    let digest = Sha256::digest(&bytes);
    let tag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let tag = format!("\"{tag}\"");
    let known = req
        .headers()
        .get_all(IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == tag || candidate == "*");
    let mut response = if known {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response.insert_header((ETAG, tag.clone()));
    if known {
        response.finish()
    } else {
        response.content_type("application/json").body(bytes)
    }
}

/// Collects the field errors of several inputs, so that one answer names them all.
#[derive(Default)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn check<T>(&mut self, parsed: Result<T, DomainError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(DomainError::Invalid { field, message }) => {
                self.0.entry(field.to_owned()).or_default().push(message);
                None
            }
            Err(other) => {
                self.0
                    .entry("non_field_errors".into())
                    .or_default()
                    .push(other.to_string());
                None
            }
        }
    }

    /// Ok if every check passed; the 400 naming each failed field otherwise.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

/// Answers a POST under its `Idempotency-Key`: the first request with a key runs
/// `handle`; the same key with the same body replays that answer; another body gets 422.
/// Answers that say "try again" ([`ApiError::asks_for_a_retry`]) are not kept, so that the
/// retry runs again instead of replaying them. Without the header,
/// `handle` simply runs.
pub async fn idempotent(
    state: &AppState,
    req: &HttpRequest,
    scope: String,
    body: &[u8],
    handle: impl Future<Output = Handled>,
) -> HttpResponse {
    let Some(key) = req.headers().get("Idempotency-Key") else {
        return render(handle.await);
    };
    let key = match key.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            key
        }
        _ => {
            return render(Err(ApiError::field(
                "Idempotency-Key",
                "Use 1 to 255 visible ASCII characters.",
            )))
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b" ");
    hasher.update(req.path().trim_end_matches('/'));
    hasher.update(b"\n");
    hasher.update(body);
    let hash = format!("{:x}", hasher.finalize());
    match state
        .idempotency
        .claim(&scope, key, &hash, state.clock.now())
        .await
    {
        Err(error) => render(Err(error.into())),
        Ok(Claim::Mismatch) => render(Err(ApiError::IdempotencyKeyReused)),
        Ok(Claim::InProgress) => render(Err(ApiError::IdempotencyInProgress)),
        Ok(Claim::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = respond(status, &serde_json::from_str(&body).unwrap_or(Value::Null));
            response.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("idempotent-replayed"),
                actix_web::http::header::HeaderValue::from_static("true"),
            );
            response
        }
        Ok(Claim::Fresh) => {
            let outcome = Outcome::from(handle.await);
            let kept = if outcome.asks_for_a_retry {
                state.idempotency.release(&scope, key).await
            } else {
                state
                    .idempotency
                    .store(
                        &scope,
                        key,
                        outcome.status.as_u16(),
                        &outcome.body.to_string(),
                    )
                    .await
            };
            if let Err(error) = kept {
                tracing::warn!(%error, "the idempotency key could not be updated");
            }
            outcome.render()
        }
    }
}
