//! User tokens verified with the identity provider's JSON Web Key Set (`JWT_JWKS_URL`),
//! served by a local stand-in of the provider: keys named by `kid`, a rotation picked up
//! without a restart, ES256, the set's outages, and every token that must be refused.

mod support;

use std::time::Duration;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{seed, As, Cast, TestApp};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RSA_1: &str = include_str!("fixtures/jwt-test-key.pem");
const RSA_1_PUBLIC: &str = include_str!("fixtures/jwt-test-key.pub.pem");
const RSA_2: &str = include_str!("fixtures/jwt-test-key-2.pem");
const EC_1: &str = include_str!("fixtures/jwt-test-ec-key.pem");
/// The public halves of the three keys above, as a provider publishes them: `rsa-1`,
/// `rsa-2` (RS256) and `ec-1` (P-256, no `alg`: ES256 is read from its curve).
const JWKS: &str = include_str!("fixtures/jwks.json");

/// Short enough for a test to see a second fetch.
const REFETCH: Duration = Duration::from_millis(500);

/// The provider's set holding the fixture keys `kids`.
fn set_of(kids: &[&str]) -> Value {
    let all: Value = serde_json::from_str(JWKS).unwrap();
    let keys: Vec<Value> = all["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| kids.contains(&key["kid"].as_str().unwrap()))
        .cloned()
        .collect();
    assert_eq!(keys.len(), kids.len(), "{kids:?} are fixture keys");
    json!({ "keys": keys })
}

/// The provider, publishing `kids` (replacing whatever it published before).
async fn publish(provider: &MockServer, kids: &[&str]) {
    provider.reset().await;
    Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(set_of(kids)))
        .mount(provider)
        .await;
}

/// The provider down: every fetch answers 503.
async fn outage(provider: &MockServer) {
    provider.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(provider)
        .await;
}

/// The provider publishing `kids`, and the service verifying tokens with its set.
async fn publishing(kids: &[&str]) -> (MockServer, TestApp) {
    let provider = MockServer::start().await;
    publish(&provider, kids).await;
    let app = service(&provider, &[]).await;
    (provider, app)
}

async fn service(provider: &MockServer, extra: &[(&str, &str)]) -> TestApp {
    service_refetching_after(provider, REFETCH, extra).await
}

async fn service_refetching_after(
    provider: &MockServer,
    refetch: Duration,
    extra: &[(&str, &str)],
) -> TestApp {
    let url = format!("{}/jwks.json", provider.uri());
    let refetch = format!("{}ms", refetch.as_millis());
    let mut vars = vec![
        ("JWT_JWKS_URL", url.as_str()),
        ("JWT_JWKS_REFETCH_INTERVAL", refetch.as_str()),
    ];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(seed(0, "1.00"), &vars).await
}

/// A buyer's token for ten minutes, signed with `pem` by `alg`, naming `kid`.
fn token(alg: Algorithm, pem: &str, kid: Option<&str>) -> String {
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_secret(pem.as_bytes()),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let claims = json!({"sub": Cast::buyer(), "exp": chrono::Utc::now().timestamp() + 600});
    encode(&header, &claims, &key).unwrap()
}

/// The status of the buyer's list read with `token`.
async fn read_with(app: &TestApp, token: String) -> StatusCode {
    let bearer = As::Raw("Authorization", format!("Bearer {token}"));
    app.get("/api/v1/orders/", &bearer).await.status
}

async fn fetches(provider: &MockServer) -> usize {
    provider.received_requests().await.unwrap_or_default().len()
}

#[tokio::test]
async fn a_token_signed_with_a_key_of_the_set_is_accepted() {
    let (provider, app) = publishing(&["rsa-1"]).await;
    let signed = token(Algorithm::RS256, RSA_1, Some("rsa-1"));
    assert_eq!(read_with(&app, signed).await, StatusCode::OK);
    assert_eq!(fetches(&provider).await, 1, "fetched once, at start");
}

#[tokio::test]
async fn a_key_the_provider_rotates_in_is_fetched_when_a_token_first_names_it() {
    let (provider, app) = publishing(&["rsa-1"]).await;
    publish(&provider, &["rsa-1", "rsa-2"]).await;
    tokio::time::sleep(REFETCH).await;
    let rotated = token(Algorithm::RS256, RSA_2, Some("rsa-2"));
    assert_eq!(read_with(&app, rotated).await, StatusCode::OK, "no restart");
    let old = token(Algorithm::RS256, RSA_1, Some("rsa-1"));
    assert_eq!(read_with(&app, old).await, StatusCode::OK);
}

#[tokio::test]
async fn an_es256_key_of_the_set_verifies_es256_tokens() {
    let (_provider, app) = publishing(&["ec-1"]).await;
    let signed = token(Algorithm::ES256, EC_1, Some("ec-1"));
    assert_eq!(read_with(&app, signed).await, StatusCode::OK);
}

#[tokio::test]
async fn a_token_signed_with_another_key_under_a_known_kid_is_refused() {
    let (_provider, app) = publishing(&["rsa-1", "rsa-2"]).await;
    let forged = token(Algorithm::RS256, RSA_2, Some("rsa-1"));
    assert_eq!(read_with(&app, forged).await, StatusCode::UNAUTHORIZED);
    // Nor does an ES256 signature pass under an RSA key's kid.
    let swapped = token(Algorithm::ES256, EC_1, Some("rsa-1"));
    assert_eq!(read_with(&app, swapped).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_kid_is_refused_and_fetches_the_set_at_most_once_an_interval() {
    let provider = MockServer::start().await;
    publish(&provider, &["rsa-1"]).await;
    // Long enough that the five requests below all fall within one interval.
    let interval = Duration::from_secs(2);
    let app = service_refetching_after(&provider, interval, &[]).await;
    tokio::time::sleep(interval).await;
    for _ in 0..5 {
        let unknown = token(Algorithm::RS256, RSA_2, Some("made-up"));
        assert_eq!(read_with(&app, unknown).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        fetches(&provider).await,
        2,
        "the start's fetch, then one for the five unknown kids"
    );
}

#[tokio::test]
async fn an_hs256_token_naming_a_kid_of_the_set_is_refused() {
    let provider = MockServer::start().await;
    publish(&provider, &["rsa-1"]).await;
    // The service keeps its shared secret (`JWT_SECRET`) too: HS256 is an algorithm it
    // verifies, for tokens that name no key of the set.
    let app = service(&provider, &[]).await;
    // The classic confusion: the provider's public key used as an HMAC secret.
    let confused = token(Algorithm::HS256, RSA_1_PUBLIC, Some("rsa-1"));
    assert_eq!(read_with(&app, confused).await, StatusCode::UNAUTHORIZED);
    // Signed with the real shared secret, but naming the set's key: the key named decides.
    let named = token(Algorithm::HS256, support::JWT_SECRET, Some("rsa-1"));
    assert_eq!(read_with(&app, named).await, StatusCode::UNAUTHORIZED);
    // The shared secret still verifies the tokens that name no key of the set.
    let plain = token(Algorithm::HS256, support::JWT_SECRET, None);
    assert_eq!(read_with(&app, plain).await, StatusCode::OK);
}

#[tokio::test]
async fn while_the_set_is_unreachable_the_keys_held_keep_working() {
    let (provider, app) = publishing(&["rsa-1"]).await;
    outage(&provider).await;
    tokio::time::sleep(REFETCH).await;
    // An unknown kid makes the service try the set, which fails...
    let unknown = token(Algorithm::RS256, RSA_2, Some("rsa-2"));
    assert_eq!(read_with(&app, unknown).await, StatusCode::UNAUTHORIZED);
    assert_eq!(fetches(&provider).await, 1, "the failed fetch");
    // ...and the key fetched before still verifies.
    let held = token(Algorithm::RS256, RSA_1, Some("rsa-1"));
    assert_eq!(read_with(&app, held).await, StatusCode::OK);
    assert_eq!(
        app.get("/readyz/", &As::Nobody).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_service_with_only_the_set_is_not_ready_until_it_has_fetched_a_key() {
    let provider = MockServer::start().await;
    outage(&provider).await;
    let app = service(&provider, &[("JWT_SECRET", "")]).await;
    let not_ready = app.get("/readyz/", &As::Nobody).await;
    not_ready.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(not_ready.body["signing_keys"], "none");
    assert!(not_ready.headers.contains_key("retry-after"));
    // Without a shared secret, a token naming no key cannot be verified.
    let plain = token(Algorithm::HS256, support::JWT_SECRET, None);
    assert_eq!(read_with(&app, plain).await, StatusCode::UNAUTHORIZED);

    publish(&provider, &["rsa-1"]).await;
    tokio::time::sleep(REFETCH).await;
    assert_eq!(
        app.get("/readyz/", &As::Nobody).await.status,
        StatusCode::OK
    );
    let signed = token(Algorithm::RS256, RSA_1, Some("rsa-1"));
    assert_eq!(read_with(&app, signed).await, StatusCode::OK);
}
