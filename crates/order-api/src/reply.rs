//! What handlers answer: a status with a JSON body, and reads that carry an `ETag`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{respond, ApiError};

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

    /// 202: taken on, some of it to be done later.
    pub fn accepted(body: Value) -> Reply {
        Reply {
            status: StatusCode::ACCEPTED,
            body,
        }
    }

    /// 201 for what the request created, 200 for what an earlier one did.
    pub fn placed(created: bool, body: Value) -> Reply {
        if created {
            Reply::created(body)
        } else {
            Reply::ok(body)
        }
    }
}

impl Responder for Reply {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        respond(self.status, &self.body)
    }
}

/// A read's answer with its `ETag` — a digest of the representation, so it changes with
/// anything the caller would see change — or `304 Not Modified` when the request's
/// `If-None-Match` already names it, so that polling clients and caches save the body.
pub fn cacheable(
    req: &HttpRequest,
    body: &impl serde::Serialize,
) -> Result<HttpResponse, ApiError> {
    use actix_web::http::header::{ETAG, IF_NONE_MATCH};
    let bytes = serde_json::to_vec(body).map_err(ApiError::serializing)?;
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
    Ok(if known {
        response.finish()
    } else {
        response.content_type("application/json").body(bytes)
    })
}
