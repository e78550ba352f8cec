//! JSON request bodies the way DRF answers them: 415 for another media type, 413 past
//! 64 KiB, 400 `parse_error` for malformed JSON and `{"field": ["message"]}` for values of
//! the wrong type.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest request body accepted (SPEC §2).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A request body parsed as `T`, with its bytes (for idempotency keys).
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let media_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            });
        let declared_length = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            match media_type.as_deref() {
                Some("application/json") => {}
                Some(other) if other.ends_with("+json") => {}
                other => {
                    return Err(ApiError::UnsupportedMediaType(
                        other.unwrap_or("").to_owned(),
                    ))
                }
            }
            if declared_length.is_some_and(|length| length > BODY_LIMIT) {
                return Err(ApiError::PayloadTooLarge);
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|_| ApiError::Parse("the body could not be read".into()))?;
                if body.len() + chunk.len() > BODY_LIMIT {
                    return Err(ApiError::PayloadTooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            let raw = body.freeze();
            let value = parse(&raw)?;
            Ok(JsonBody { value, raw })
        })
    }
}

/// Parses `bytes` as `T`, naming the field of the first wrong value.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde would read a struct from a JSON array by position; a body is an object.
    let got = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => Some("list"),
        Some(b'"') => Some("str"),
        Some(b't' | b'f') => Some("bool"),
        Some(b'n') => Some("null"),
        Some(b'-' | b'0'..=b'9') => Some("number"),
        _ => None,
    };
    if let Some(got) = got {
        return Err(ApiError::field(
            "non_field_errors",
            format!("Invalid data. Expected a dictionary, but got {got}."),
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ApiError::Parse(inner.to_string())
            }
            _ => field_error(&path, &without_position(&inner)),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::Parse(e.to_string()))?;
    Ok(value)
}

/// serde_json's message without its " at line 1 column 7" suffix.
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

fn field_error(path: &str, message: &str) -> ApiError {
    let at = |field: &str| -> String {
        match path {
            "." | "" => field.to_owned(),
            parent => format!("{parent}.{field}"),
        }
    };
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        return ApiError::field(at(field), "This field is required.");
    }
    // Errors are reported under the top-level field: "evidence[3]" under "evidence",
    // "shipping_address.line1" under "shipping_address" (the rest goes into the message).
    let (field, inner) = match path {
        "." | "" => ("non_field_errors".to_owned(), None),
        path => {
            let end = path.find(['.', '[']).unwrap_or(path.len());
            let inner = path[end..].trim_start_matches('.');
            let inner = (!inner.is_empty() && !inner.starts_with('[')).then(|| inner.to_owned());
            (path[..end].to_owned(), inner)
        }
    };
    let friendly = if message.starts_with("invalid type: null") {
        "This field may not be null.".to_owned()
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        match rest.split_once(", expected ") {
            Some((got, expected)) if field == "non_field_errors" => {
                format!("Invalid data. Expected {expected}, but got {got}.")
            }
            Some((got, expected)) => format!("Expected {expected}, got {got}."),
            None => message.to_owned(),
        }
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        let value = rest.split('`').next().unwrap_or_default();
        format!("\"{value}\" is not a valid choice.")
    } else if message.starts_with("UUID parsing failed")
        || message.contains("invalid character: expected")
    {
        "Must be a valid UUID.".to_owned()
    } else {
        message.to_owned()
    };
    match inner {
        Some(inner) => ApiError::field(field, format!("{inner}: {friendly}")),
        None => ApiError::field(field, friendly),
    }
}

#[cfg(test)]
mod tests {
    use order_domain::{Money, OrderId};
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Body {
        order_id: OrderId,
        amount: Money,
        tags: Vec<String>,
    }

    fn errors(body: &str) -> serde_json::Value {
        parse::<Body>(body.as_bytes()).unwrap_err().reply().1
    }

    #[test]
    fn each_wrong_value_is_reported_under_its_field() {
        let id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
        assert_eq!(
            errors(&format!(
                r#"{{"order_id": "{id}", "amount": "1.234", "tags": []}}"#
            )),
            json!({"amount": ["Ensure that there are no more than 2 decimal places."]})
        );
        assert_eq!(
            errors(r#"{"order_id": "nope", "amount": "1", "tags": []}"#),
            json!({"order_id": ["Must be a valid UUID."]})
        );
        assert_eq!(
            errors(&format!(
                r#"{{"order_id": "{id}", "amount": "1", "tags": [1]}}"#
            )),
            json!({"tags": ["Expected a string, got integer `1`."]})
        );
        assert_eq!(
            errors(&format!(r#"{{"order_id": "{id}", "tags": []}}"#)),
            json!({"amount": ["This field is required."]})
        );
        assert_eq!(
            errors(&format!(
                r#"{{"order_id": "{id}", "amount": null, "tags": []}}"#
            )),
            json!({"amount": ["This field may not be null."]})
        );
    }

    #[test]
    fn malformed_json_is_a_parse_error() {
        assert_eq!(errors("{\"order_id\": ")["code"], "parse_error");
        let trailing = parse::<serde_json::Value>(b"{} trailing")
            .unwrap_err()
            .reply()
            .1;
        assert_eq!(trailing["code"], "parse_error");
        let list = errors("[]");
        assert!(
            list["non_field_errors"][0]
                .as_str()
                .unwrap()
                .starts_with("Invalid data."),
            "{list}"
        );
    }
}
