//! A write's body, checked into the command its use case takes: the body is read as JSON
//! (every field of the wrong type named at once), then each value is checked by the
//! domain's own parsers (every refused field named at once). A handler receives the
//! command, with domain types only, or never runs.

use std::collections::BTreeMap;

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use order_domain::DomainError;
use serde::de::DeserializeOwned;
use utoipa::PartialSchema;

use crate::error::ApiError;
use crate::json::JsonBody;

/// A command built from the body of its request.
pub trait FromBody: Sized {
    /// The body as sent; its OpenAPI schema documents the request.
    type Body: DeserializeOwned + PartialSchema + 'static;

    /// The command, or the 400 naming every refused field.
    fn from_body(body: Self::Body) -> Result<Self, ApiError>;
}

/// The command `C` of this request's body.
pub struct Command<C>(pub C);

impl<C: FromBody + 'static> FromRequest for Command<C> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = JsonBody::<C::Body>::from_request(req, payload);
        Box::pin(async move { C::from_body(body.await?.0).map(Command) })
    }
}

/// Collects the refusals of several values, so that one answer names them all.
#[derive(Default)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// The value, or `None` with its refusal noted under its field.
    pub fn check<T>(&mut self, parsed: Result<T, DomainError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.note(error);
                None
            }
        }
    }

    /// `parsed`'s refusal noted under `field`, whatever field the parser named.
    pub fn check_as<T>(
        &mut self,
        field: &'static str,
        parsed: Result<T, DomainError>,
    ) -> Option<T> {
        self.check(parsed.map_err(|error| match error {
            DomainError::Invalid { message, .. } => DomainError::Invalid { field, message },
            other => other,
        }))
    }

    fn note(&mut self, error: DomainError) {
        let (field, message) = match error {
            DomainError::Invalid { field, message } => (field.to_owned(), message),
            other => ("non_field_errors".to_owned(), other.to_string()),
        };
        self.0.entry(field).or_default().push(message);
    }

    /// `values` when nothing was refused; otherwise the 400 naming each refused field.
    pub fn finish<T>(self, values: Option<T>) -> Result<T, ApiError> {
        match values {
            Some(values) if self.0.is_empty() => Ok(values),
            _ => Err(ApiError::Validation(self.0)),
        }
    }
}
