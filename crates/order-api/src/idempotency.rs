//! `Idempotency-Key` on every write, as one wrapper around every route: the first request
//! with a key is handled and its answer kept; the same key with the same request replays
//! that answer; another request under the key gets 422. Handlers know nothing of it, so no
//! write can be added without it.
//!
//! An answer that asks the caller to try again (a 5xx, a busy order, a lost race: see
//! [`ApiError::asks_for_a_retry`]) is not kept: the retry runs again instead of replaying
//! "try again" for ever. Keys are scoped to the caller's credentials, so two callers never
//! share one; a request without valid credentials is left to be refused by its handler.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::HttpMessage;
use futures_util::StreamExt;
use order_postgres::Claim;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{respond, ApiError};
use crate::json::BODY_LIMIT;
use crate::state::AppState;

/// Set on an error answer that asks for a retry, so that it is not kept under its key.
#[derive(Clone, Copy, Debug)]
pub struct AsksForRetry;

/// The header of a replayed answer.
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

pub async fn keyed(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let writes = matches!(*req.method(), Method::POST | Method::PATCH);
    // A method its path does not serve is a 405 whatever its key: no answer is kept for it.
    // Matched only for a keyed write, so that no other request pays for it.
    let keyed = req
        .headers()
        .get("Idempotency-Key")
        .filter(|_| writes && crate::routes::methods::serves(req.method(), req.path()));
    let Some(key) = keyed else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match key.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            key.to_owned()
        }
        _ => {
            let refused =
                ApiError::field("Idempotency-Key", "Use 1 to 255 visible ASCII characters.");
            return Ok(req.error_response(refused));
        }
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Unauthenticated: its handler refuses it, and there is no caller to scope the key to.
    let Some(scope) = crate::auth::idempotency_scope(req.request()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(error) => return Ok(req.error_response(error)),
    };
    let hash = request_hash(req.method(), req.path(), &body);
    req.set_payload(Payload::from(body));
    let claim = state
        .idempotency
        .claim(&scope, &key, &hash, state.clock.now())
        .await;
    let claim = match claim {
        Ok(claim) => claim,
        Err(error) => return Ok(req.error_response(ApiError::from(error))),
    };
    match claim {
        Claim::Mismatch => Ok(req.error_response(ApiError::IdempotencyKeyReused)),
        Claim::InProgress => Ok(req.error_response(ApiError::IdempotencyInProgress)),
        Claim::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let body = serde_json::from_str(&body).unwrap_or(Value::Null);
            let mut answer = respond(status, &body);
            answer
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            Ok(req.into_response(answer))
        }
        Claim::Fresh => {
            let response = next.call(req).await?;
            let asks_for_a_retry = response.status().is_server_error()
                || response.response().extensions().contains::<AsksForRetry>();
            let (request, answer) = response.into_parts();
            let (head, body) = answer.into_parts();
            // The answers of writes are small JSON documents, already in memory.
            let body = to_bytes(body).await.unwrap_or_default();
            let kept = if asks_for_a_retry {
                state.idempotency.release(&scope, &key).await
            } else {
                let text = String::from_utf8_lossy(&body);
                state
                    .idempotency
                    .store(&scope, &key, head.status().as_u16(), &text)
                    .await
            };
            if let Err(error) = kept {
                tracing::warn!(%error, "the idempotency key could not be updated");
            }
            Ok(ServiceResponse::new(
                request,
                head.set_body(body).map_into_boxed_body(),
            ))
        }
    }
}

/// The request body, up to the size any body may have.
async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, ApiError> {
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::Parse("the body could not be read".into()))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// What makes two requests under one key the same: method, path and body.
fn request_hash(method: &Method, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str());
    hasher.update(b" ");
    hasher.update(path.trim_end_matches('/'));
    hasher.update(b"\n");
    hasher.update(body);
    format!("{:x}", hasher.finalize())
}
