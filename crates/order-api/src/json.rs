//! JSON request bodies the way DRF answers them: 415 for another media type, 413 past
//! 64 KiB, 400 `parse_error` for malformed JSON and `{"field": ["message"], ...}` naming
//! every value of the wrong type and every missing field. A key repeated in an object,
//! at any depth, is refused by name: parsers disagree on which copy wins, so a proxy or a
//! signature check in front could have read the other one.

use std::collections::BTreeMap;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{dev::Payload, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use utoipa::openapi::{RefOr, Schema};
use utoipa::PartialSchema;

use crate::error::ApiError;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A request body parsed as `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + PartialSchema + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = JsonBytes::from_request(req, payload);
        Box::pin(async move { parse(&body.await?.0).map(JsonBody) })
    }
}

/// A JSON request body as sent, not parsed yet: for a signature computed over the very
/// bytes. The media type and size are checked as for [`JsonBody`].
pub struct JsonBytes(pub Bytes);

impl FromRequest for JsonBytes {
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
            Ok(JsonBytes(body.freeze()))
        })
    }
}

/// Parses `bytes` as `T`; a body of the wrong shape is answered with every wrong field at
/// once, as DRF does. `T`'s OpenAPI schema says which fields are required, so the document
/// and the check cannot disagree.
pub fn parse<T: DeserializeOwned + PartialSchema>(bytes: &[u8]) -> Result<T, ApiError> {
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
    if let Some(repeated) = repeated_key(bytes) {
        return Err(repeated);
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut *deserializer) {
        Ok(value) => {
            deserializer
                .end()
                .map_err(|e| ApiError::Parse(e.to_string()))?;
            Ok(value)
        }
        Err(error) => match error.inner().classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                Err(ApiError::Parse(error.into_inner().to_string()))
            }
            _ => Err(every_wrong_field::<T>(bytes)),
        },
    }
}

/// The errors of a well-formed JSON object that does not make a `T`. serde stops at the
/// first wrong value, so the object is read again without each wrong field in turn until
/// the rest reads. Missing fields come from the schema's `required` list: serde names only
/// the first, and cannot tell one missing from the request from one taken out here.
fn every_wrong_field<T: DeserializeOwned + PartialSchema>(bytes: &[u8]) -> ApiError {
    let mut object = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(object)) => object,
        Ok(_) | Err(_) => return ApiError::Parse("the body is not a JSON object".into()),
    };
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for field in required::<T>() {
        if !object.contains_key(&field) {
            errors.insert(field, vec!["This field is required.".to_owned()]);
        }
    }
    // Each round takes one field out of the object, so this ends.
    while let Err(error) =
        serde_path_to_error::deserialize::<_, T>(serde_json::Value::Object(object.clone()))
    {
        let path = error.path().to_string();
        let message = without_position(&error.into_inner());
        let (field, text) = field_error(&path, &message);
        let top = top_level(&path);
        if missing_field(&message).is_some() && path == "." {
            // Every present field has been read: what is left is missing fields.
            errors.entry(field).or_insert_with(|| vec![text]);
            break;
        }
        errors.entry(field).or_default().push(text);
        if object.remove(top).is_none() {
            break;
        }
    }
    ApiError::Validation(errors)
}

/// The first key repeated within one object of `bytes`, as a field error: a top-level key
/// under its own name, a nested one under its top-level field (`"city: Repeated key."`).
/// `None` for a body without one, or one that is not JSON (the parse reports that).
fn repeated_key(bytes: &[u8]) -> Option<ApiError> {
    use serde::de::DeserializeSeed;
    let repeated = std::cell::RefCell::new(None);
    let mut track = serde_path_to_error::Track::new();
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let tracked = serde_path_to_error::Deserializer::new(deserializer, &mut track);
    // Only the key the walk recorded matters; any other failure is the parse's to report.
    let _ = NoRepeatedKey(&repeated).deserialize(tracked);
    let key = repeated.into_inner()?;
    let path = track.path().to_string();
    let (field, message) = match path.as_str() {
        "." | "" => (key, "Repeated key.".to_owned()),
        path => {
            let top = top_level(path);
            let rest = path[top.len()..].trim_start_matches('.');
            let inner = if rest.is_empty() || rest.starts_with('[') {
                key
            } else {
                format!("{rest}.{key}")
            };
            (top.to_owned(), format!("{inner}: Repeated key."))
        }
    };
    Some(ApiError::field(field, message))
}

/// Walks any JSON value, stopping at the first key repeated within an object and recording
/// it in the cell.
struct NoRepeatedKey<'a>(&'a std::cell::RefCell<Option<String>>);

impl<'de> serde::de::DeserializeSeed<'de> for NoRepeatedKey<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for NoRepeatedKey<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                *self.0.borrow_mut() = Some(key);
                return Err(serde::de::Error::custom("repeated key"));
            }
            map.next_value_seed(NoRepeatedKey(self.0))?;
            seen.insert(key);
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoRepeatedKey(self.0))?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The fields `T`'s schema requires.
fn required<T: PartialSchema>() -> Vec<String> {
    match T::schema() {
        RefOr::T(Schema::Object(object)) => object.required,
        _ => Vec::new(),
    }
}

/// The field a "missing field `x`" message names.
fn missing_field(message: &str) -> Option<String> {
    message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
        .map(str::to_owned)
}

/// The top-level field of a serde path: "evidence" of "evidence[3]", "a" of "a.b".
fn top_level(path: &str) -> &str {
    &path[..path.find(['.', '[']).unwrap_or(path.len())]
}

/// serde_json's message without its " at line 1 column 7" suffix.
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

/// The field an error at `path` is reported under, and its DRF-style message.
fn field_error(path: &str, message: &str) -> (String, String) {
    let at = |field: &str| -> String {
        match path {
            "." | "" => field.to_owned(),
            parent => format!("{parent}.{field}"),
        }
    };
    if let Some(field) = missing_field(message) {
        return (at(&field), "This field is required.".to_owned());
    }
    // Errors are reported under the top-level field: "evidence[3]" under "evidence",
    // "shipping_address.line1" under "shipping_address" (the rest goes into the message).
    let (field, inner) = match path {
        "." | "" => ("non_field_errors".to_owned(), None),
        path => {
            let top = top_level(path);
            let inner = path[top.len()..].trim_start_matches('.');
            let inner = (!inner.is_empty() && !inner.starts_with('[')).then(|| inner.to_owned());
            (top.to_owned(), inner)
        }
    };
    let friendly = if message.starts_with("invalid type: null") {
        "This field may not be null.".to_owned()
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        match rest.split_once(", expected ") {
            Some((got, expected)) if field == "non_field_errors" => {
                format!("Invalid data. Expected {expected}, but got {got}.")
            }
            Some((_, expected)) if expected.contains("UUID") => "Must be a valid UUID.".to_owned(),
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
        Some(inner) => (field, format!("{inner}: {friendly}")),
        None => (field, friendly),
    }
}

#[cfg(test)]
mod tests {
    use order_domain::{Money, OrderId};
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize, utoipa::ToSchema)]
    struct Body {
        #[schema(value_type = uuid::Uuid)]
        order_id: OrderId,
        #[schema(value_type = String)]
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
    fn every_wrong_value_is_reported_at_once() {
        assert_eq!(
            errors(r#"{"order_id": "nope", "amount": "1.234", "tags": "x"}"#),
            json!({
                "order_id": ["Must be a valid UUID."],
                "amount": ["Ensure that there are no more than 2 decimal places."],
                "tags": ["Expected a sequence, got string \"x\"."],
            })
        );
    }

    #[test]
    fn a_wrong_value_and_a_missing_field_are_reported_together() {
        assert_eq!(
            errors(r#"{"order_id": "nope", "tags": []}"#),
            json!({
                "order_id": ["Must be a valid UUID."],
                "amount": ["This field is required."],
            })
        );
    }

    #[test]
    fn optional_and_defaulted_fields_are_not_required() {
        #[allow(dead_code)]
        #[derive(Debug, Deserialize, utoipa::ToSchema)]
        struct Partly {
            reason: String,
            #[serde(default)]
            evidence: Vec<String>,
            note: Option<String>,
        }
        let error = parse::<Partly>(br#"{"reason": 5}"#).unwrap_err();
        assert_eq!(
            error.reply().1,
            json!({"reason": ["Expected a string, got integer `5`."]})
        );
    }

    #[test]
    fn unknown_fields_are_ignored_as_drf_does() {
        assert_eq!(
            errors(r#"{"order_id": "nope", "amount": "1", "tags": [], "colour": 1}"#),
            json!({"order_id": ["Must be a valid UUID."]})
        );
    }

    #[test]
    fn a_repeated_key_is_named_at_the_top_or_under_its_top_level_field() {
        let id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
        assert_eq!(
            errors(&format!(
                r#"{{"order_id": "{id}", "amount": "1.00", "tags": [], "amount": "2.00"}}"#
            )),
            json!({"amount": ["Repeated key."]})
        );
        // A field this body does not know is still a repeated key.
        assert_eq!(
            errors(&format!(
                r#"{{"order_id": "{id}", "amount": "1", "tags": [], "x": 1, "x": 2}}"#
            )),
            json!({"x": ["Repeated key."]})
        );
        assert_eq!(
            errors(&format!(
                r#"{{"order_id": "{id}", "amount": "1", "tags": [],
                    "meta": {{"a": {{"b": 1, "b": 2}}}}}}"#
            )),
            json!({"meta": ["a.b: Repeated key."]})
        );
        assert_eq!(
            errors(&format!(
                r#"{{"order_id": "{id}", "amount": "1", "tags": [{{"k": 1, "k": 1}}]}}"#
            )),
            json!({"tags": ["k: Repeated key."]})
        );
    }

    #[test]
    fn the_same_key_in_two_objects_is_not_repeated() {
        let id = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
        assert!(parse::<Body>(
            format!(r#"{{"order_id": "{id}", "amount": "1", "tags": [], "m": [{{"k": 1}}, {{"k": 2}}]}}"#)
                .as_bytes()
        )
        .is_ok());
    }

    #[test]
    fn malformed_json_is_a_parse_error() {
        assert_eq!(errors("{\"order_id\": ")["code"], "parse_error");
        let trailing = parse::<std::collections::HashMap<String, String>>(b"{} trailing")
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
