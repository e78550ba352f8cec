//! What the tests, the demo and the benchmark share to call the Order Service as its
//! callers do: user tokens signed as an identity provider signs them. The service itself
//! never depends on it.

use chrono::{TimeDelta, Utc};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use uuid::Uuid;

/// `claims` signed HS256 with `secret`, exactly as given.
pub fn sign(secret: &str, claims: &Value) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signs any JSON object")
}

/// A token of `user` (an admin with `is_staff`), valid for `valid_for` from now.
pub fn user_token(secret: &str, user: Uuid, is_staff: bool, valid_for: TimeDelta) -> String {
    let exp = (Utc::now() + valid_for).timestamp();
    sign(
        secret,
        &json!({"sub": user, "is_staff": is_staff, "exp": exp}),
    )
}
