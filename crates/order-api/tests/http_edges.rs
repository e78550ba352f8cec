//! What browsers, gateways, caches and identity providers expect of the HTTP edges: HEAD
//! and OPTIONS on every route of the OpenAPI document, CORS from settings, the token's
//! audience and issuer when configured, and ETag / If-None-Match on reads.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{dispute_path, id, listing, seed, As, Cast, TestApp, JWT_SECRET};

/// An app with an order and a dispute, and each documented path made concrete with them.
async fn app_with_objects() -> (TestApp, Vec<(String, String, Vec<String>)>) {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let order = app.shipped_order(listing(2), "100.00").await;
    let dispute = app
        .open_dispute(&order, Cast::buyer(), "It never arrived.")
        .await;
    let document = app.get("/api/v1/openapi.json", &As::Nobody).await.body;
    let paths = support::documented_operations(&document)
        .into_iter()
        .map(|(path, methods)| {
            let object = if path.starts_with("/api/v1/disputes/") {
                id(&dispute)
            } else if path.ends_with("/purchase/") {
                listing(1).to_string()
            } else {
                id(&order)
            };
            (path.replace("{id}", &object), path, methods)
        })
        .collect();
    (app, paths)
}

#[tokio::test]
async fn head_answers_every_get_route_with_the_gets_status_and_headers_and_no_body() {
    let (app, paths) = app_with_objects().await;
    let mut checked = 0;
    for (concrete, path, methods) in paths {
        if !methods.contains(&"GET".to_owned()) {
            continue;
        }
        let admin = As::admin();
        let get = app.call(Method::GET, &concrete, &admin, None).await;
        let head = app.call(Method::HEAD, &concrete, &admin, None).await;
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert_eq!(head.body, Value::Null, "HEAD {path} has no body");
        assert_eq!(
            head.headers.get("content-type"),
            get.headers.get("content-type"),
            "HEAD {path}"
        );
        // The metrics change from one scrape to the next; everything else is stable.
        if path != "/metrics/" {
            assert_eq!(
                head.headers.get("content-length"),
                get.headers.get("content-length"),
                "HEAD {path}"
            );
            assert_eq!(
                head.headers.get("etag"),
                get.headers.get("etag"),
                "HEAD {path}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 8, "every GET route: {checked}");
}

#[tokio::test]
async fn options_answers_every_route_with_its_allowed_methods_and_no_credentials() {
    let (app, paths) = app_with_objects().await;
    for (concrete, path, methods) in paths {
        let answer = app
            .call(Method::OPTIONS, &concrete, &As::Nobody, None)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "OPTIONS {path}: {}",
            answer.body
        );
        let mut expected = methods.clone();
        if methods.contains(&"GET".to_owned()) {
            expected.push("HEAD".into());
        }
        expected.push("OPTIONS".into());
        let allow: Vec<String> = answer.headers["allow"]
            .to_str()
            .unwrap()
            .split(", ")
            .map(str::to_owned)
            .collect();
        assert_eq!(allow, expected, "OPTIONS {path}");
        assert!(
            !answer.body["name"].as_str().unwrap().is_empty(),
            "OPTIONS {path} names the route: {}",
            answer.body
        );
        assert_eq!(answer.body["renders"], json!(["application/json"]));
    }
}

async fn preflight(app: &TestApp, origin: &str) -> support::Answer {
    app.call_with(
        Method::OPTIONS,
        "/api/v1/orders/00000000-0000-0000-0000-000000000001/ship/",
        &As::Nobody,
        None,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            ),
        ],
    )
    .await
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_without_credentials() {
    let app = TestApp::spawn_with(
        seed(0, "1.00"),
        &[("CORS_ALLOWED_ORIGINS", "https://shop.example.com")],
    )
    .await;
    let answer = preflight(&app, "https://shop.example.com").await;
    answer.assert_status(StatusCode::OK);
    let header = |name: &str| answer.headers[name].to_str().unwrap().to_ascii_lowercase();
    assert_eq!(
        header("access-control-allow-origin"),
        "https://shop.example.com"
    );
    assert_eq!(header("access-control-allow-credentials"), "true");
    assert!(header("access-control-allow-headers").contains("idempotency-key"));
    assert!(header("access-control-allow-methods").contains("post"));

    let read = app
        .call_with(
            Method::GET,
            "/api/v1/orders/",
            &As::buyer(),
            None,
            &[("Origin", "https://shop.example.com")],
        )
        .await;
    read.assert_status(StatusCode::OK);
    let exposed = read.headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("retry-after") && exposed.contains("etag"),
        "{exposed}"
    );
}

#[tokio::test]
async fn a_preflight_from_another_origin_or_with_cors_off_is_refused() {
    let app = TestApp::spawn_with(
        seed(0, "1.00"),
        &[("CORS_ALLOWED_ORIGINS", "https://shop.example.com")],
    )
    .await;
    let refused = preflight(&app, "https://evil.example.com").await;
    assert!(refused.headers.get("access-control-allow-origin").is_none());
    let off = TestApp::spawn(seed(0, "1.00")).await;
    let refused = preflight(&off, "https://shop.example.com").await;
    assert!(refused.headers.get("access-control-allow-origin").is_none());
}

/// A user token for the buyer with these extra claims.
fn token_with(claims: Value) -> String {
    let mut all = json!({"sub": Cast::buyer(), "exp": chrono::Utc::now().timestamp() + 3600});
    all.as_object_mut()
        .unwrap()
        .extend(claims.as_object().unwrap().clone());
    order_testkit::sign(JWT_SECRET, &all)
}

async fn list_with(app: &TestApp, token: String) -> StatusCode {
    app.call(
        Method::GET,
        "/api/v1/orders/",
        &As::Raw("Authorization", format!("Bearer {token}")),
        None,
    )
    .await
    .status
}

/// Asserts that a list read with a token carrying `claims` is answered `status`.
async fn assert_list_answers(app: &TestApp, claims: Value, status: StatusCode) {
    let token = token_with(claims.clone());
    assert_eq!(list_with(app, token).await, status, "{claims}");
}

#[tokio::test]
async fn with_an_audience_and_issuer_set_only_tokens_carrying_both_are_accepted() {
    let app = TestApp::spawn_with(
        seed(0, "1.00"),
        &[
            ("JWT_AUDIENCE", "orders"),
            ("JWT_ISSUER", "https://id.example.com"),
        ],
    )
    .await;
    let right = json!({"aud": "orders", "iss": "https://id.example.com"});
    assert_eq!(list_with(&app, token_with(right)).await, StatusCode::OK);
    for wrong in [
        json!({}),
        json!({"iss": "https://id.example.com"}),
        json!({"aud": "wallet", "iss": "https://id.example.com"}),
        json!({"aud": "orders"}),
        json!({"aud": "orders", "iss": "https://other.example.com"}),
    ] {
        assert_list_answers(&app, wrong, StatusCode::UNAUTHORIZED).await;
    }
}

#[tokio::test]
async fn without_an_audience_or_issuer_set_tokens_are_accepted_whatever_they_say_of_them() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    for claims in [
        json!({}),
        json!({"aud": "anything", "iss": "https://any.example.com"}),
        json!({"aud": ["a", "b"]}),
    ] {
        assert_list_answers(&app, claims, StatusCode::OK).await;
    }
}

/// The buyer's read of `path` with `If-None-Match: etag`.
async fn read_if_none_match(app: &TestApp, path: &str, etag: &str) -> support::Answer {
    let headers = [("If-None-Match", etag)];
    app.call_with(Method::GET, path, &As::buyer(), None, &headers)
        .await
}

#[tokio::test]
async fn a_read_carries_an_etag_answers_304_while_unchanged_and_changes_after_a_transition() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.paid_order(listing(1), "100.00").await;
    let path = format!("/api/v1/orders/{}/", id(&order));
    let buyer = As::buyer();
    let first = app.get(&path, &buyer).await;
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let unchanged = read_if_none_match(&app, &path, &etag).await;
    unchanged.assert_status(StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.body, Value::Null);
    assert_eq!(unchanged.headers["etag"].to_str().unwrap(), etag);

    app.ship(&order, "1Z-1", "UPS").await;
    let changed = read_if_none_match(&app, &path, &etag).await;
    changed.assert_status(StatusCode::OK);
    assert_eq!(changed.body["status"], "SHIPPED");
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);

    let dispute = app
        .open_dispute(&order, Cast::buyer(), "It never arrived.")
        .await;
    let path = dispute_path(&dispute);
    let tag = app.get(&path, &buyer).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let again = app
        .call_with(Method::GET, &path, &buyer, None, &[("If-None-Match", &tag)])
        .await;
    again.assert_status(StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn head_on_a_route_without_get_is_a_405_that_names_head() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let answer = app
        .call(
            Method::HEAD,
            "/api/v1/orders/internal/create/",
            &As::Service,
            None,
        )
        .await;
    answer.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers["allow"], "POST, OPTIONS");
    let get = app
        .call(
            Method::GET,
            "/api/v1/orders/internal/create/",
            &As::Service,
            None,
        )
        .await;
    assert_eq!(get.body["detail"], "Method \"GET\" not allowed.");
    // A HEAD answer has no body; its length is that of the body naming HEAD.
    let named_head = r#"{"detail":"Method \"HEAD\" not allowed.","code":"method_not_allowed"}"#;
    assert_eq!(
        answer.headers["content-length"].to_str().unwrap(),
        named_head.len().to_string()
    );
}
