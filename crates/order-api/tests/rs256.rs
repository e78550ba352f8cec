//! Users' tokens signed RS256, verified with `JWT_PUBLIC_KEY`: the option for identity
//! providers that sign with RSA.

mod support;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;
use support::{seed, As, Cast, TestApp};

const PRIVATE_KEY: &str = include_str!("fixtures/jwt-test-key.pem");
const PUBLIC_KEY: &str = include_str!("fixtures/jwt-test-key.pub.pem");

fn rs256(claims: serde_json::Value) -> String {
    let key = EncodingKey::from_rsa_pem(PRIVATE_KEY.as_bytes()).unwrap();
    encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

#[tokio::test]
async fn with_a_public_key_rs256_tokens_are_accepted_and_hs256_ones_refused() {
    let app = TestApp::spawn_with(seed(0, "1.00"), &[("JWT_PUBLIC_KEY", PUBLIC_KEY)]).await;
    let exp = chrono::Utc::now().timestamp() + 600;
    let signed = rs256(json!({"sub": Cast::buyer(), "exp": exp}));
    let bearer = |token: String| As::Raw("Authorization", format!("Bearer {token}"));
    assert_eq!(
        app.get("/api/v1/orders/", &bearer(signed)).await.status,
        StatusCode::OK
    );

    // A token signed with the HS256 secret no longer passes, nor does an expired RS256 one.
    assert_eq!(
        app.get("/api/v1/orders/", &As::buyer()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let expired = rs256(json!({"sub": Cast::buyer(), "exp": exp - 7200}));
    assert_eq!(
        app.get("/api/v1/orders/", &bearer(expired)).await.status,
        StatusCode::UNAUTHORIZED
    );
}
