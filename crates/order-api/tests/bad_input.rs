//! Bad input: a 4xx of the documented shape, and nothing changed in the database.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{dispute_path, listing, seed, As, Cast, TestApp};

/// Sends the request, asserts its status and that the database did not change, and
/// returns the answer's body.
async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &As,
    body: Option<Value>,
    status: u16,
) -> Value {
    let before = app.snapshot().await;
    let answer = app.call(method.clone(), path, who, body.clone()).await;
    assert_eq!(
        answer.status.as_u16(),
        status,
        "{method} {path} {body:?}: {}",
        answer.body
    );
    assert_eq!(
        app.snapshot().await,
        before,
        "{method} {path} {body:?} changed the database"
    );
    answer.body
}

/// A POST of `body` refused with 400 under `field`, changing nothing.
async fn refused_field(app: &TestApp, path: &str, who: &As, body: Value, field: &str) {
    let answer = refused(app, Method::POST, path, who, Some(body.clone()), 400).await;
    assert!(answer[field].is_array(), "{body}: {answer}");
}

/// The buyer's read of the order list with `query`, refused with `status`, changing nothing.
async fn refused_list(app: &TestApp, query: &str, status: u16) -> Value {
    let path = format!("/api/v1/orders/?{query}");
    refused(app, Method::GET, &path, &As::buyer(), None, status).await
}

fn create(overrides: Value) -> Value {
    let mut body = json!({"listing_id": listing(9), "buyer_id": Cast::buyer(), "seller_id": Cast::seller(), "amount": "10.00"});
    for (k, v) in overrides.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

const CREATE: &str = "/api/v1/orders/internal/create/";

#[tokio::test]
async fn bad_money_is_refused_under_its_field() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    for (amount, message) in [
        (
            json!("-1.00"),
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            json!("1.005"),
            "Ensure that there are no more than 2 decimal places.",
        ),
        (
            json!(1.005),
            "Ensure that there are no more than 2 decimal places.",
        ),
        (
            json!("10000000000.00"),
            "Ensure that there are no more than 12 digits in total (at most 9999999999.99).",
        ),
        (json!("0.00"), "Ensure this value is greater than 0.00."),
        (json!("ten"), "A valid number is required."),
        (
            json!(true),
            "Expected a decimal amount with at most two decimal places, got boolean `true`.",
        ),
    ] {
        let body = refused(
            &app,
            Method::POST,
            CREATE,
            &As::Service,
            Some(create(json!({"amount": amount}))),
            400,
        )
        .await;
        assert_eq!(body, json!({"amount": [message]}), "amount {amount}");
    }
    let total = refused(
        &app,
        Method::POST,
        CREATE,
        &As::Service,
        Some(create(
            json!({"amount": "9999999999.99", "shipping_cost": "1.00"}),
        )),
        400,
    )
    .await;
    assert!(total["shipping_cost"].is_array(), "{total}");
}

#[tokio::test]
async fn malformed_or_mistyped_bodies_are_400_with_the_documented_shape() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let client = reqwest::Client::new();
    let send = |body: &'static str, content_type: &'static str| {
        let client = client.clone();
        let url = format!("{}{CREATE}", app.url);
        async move {
            client
                .post(url)
                .header("X-Service-Token", support::SERVICE_TOKEN)
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let before = app.snapshot().await;
    let parse = send("{\"listing_id\": ", "application/json").await;
    assert_eq!(parse.status(), StatusCode::BAD_REQUEST);
    assert_eq!(parse.json::<Value>().await.unwrap()["code"], "parse_error");
    let media = send("listing_id=1", "application/x-www-form-urlencoded").await;
    assert_eq!(media.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        media.json::<Value>().await.unwrap()["code"],
        "unsupported_media_type"
    );
    let list = send("[1, 2]", "application/json").await;
    assert_eq!(list.status(), StatusCode::BAD_REQUEST);
    assert!(list.json::<Value>().await.unwrap()["non_field_errors"].is_array());
    assert_eq!(app.snapshot().await, before);

    for (body, field) in [
        (create(json!({"buyer_id": 42})), "buyer_id"),
        (create(json!({"listing_id": "not-a-uuid"})), "listing_id"),
        (create(json!({"seller_id": Cast::buyer()})), "buyer_id"),
        (
            create(json!({"shipping_address": {"line1": {"nested": true}}})),
            "shipping_address",
        ),
        (
            create(json!({"shipping_address": "Lyon"})),
            "shipping_address",
        ),
        (
            create(json!({"shipping_address": {"line1": "a\u{0}b"}})),
            "shipping_address",
        ),
        (
            json!({"buyer_id": Cast::buyer(), "seller_id": Cast::seller(), "amount": "1.00"}),
            "listing_id",
        ),
    ] {
        refused_field(&app, CREATE, &As::Service, body, field).await;
    }
}

#[tokio::test]
async fn every_wrong_and_missing_field_is_named_in_one_answer() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let body = json!({"listing_id": "not-a-uuid", "buyer_id": 42, "amount": "1.005"});
    let answer = refused(&app, Method::POST, CREATE, &As::Service, Some(body), 400).await;
    assert_eq!(
        answer,
        json!({
            "listing_id": ["Must be a valid UUID."],
            "buyer_id": ["Must be a valid UUID."],
            "seller_id": ["This field is required."],
            "amount": ["Ensure that there are no more than 2 decimal places."],
        })
    );
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let padding = "x".repeat(70 * 1024);
    let body = create(json!({"shipping_address": {"note": padding}}));
    let answer = refused(&app, Method::POST, CREATE, &As::Service, Some(body), 413).await;
    assert_eq!(answer["code"], "payload_too_large");
}

#[tokio::test]
async fn overlong_and_malformed_strings_are_refused() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let order = app.paid_order(listing(1), "10.00").await;
    let ship = format!("/api/v1/orders/{}/ship/", order["id"].as_str().unwrap());
    let seller = As::seller();
    for (body, fields) in [
        (
            json!({"tracking_number": "T".repeat(65), "carrier": "UPS"}),
            vec!["tracking_number"],
        ),
        (
            json!({"tracking_number": "has space", "carrier": "C".repeat(33)}),
            vec!["carrier", "tracking_number"],
        ),
        (
            json!({"tracking_number": "", "carrier": ""}),
            vec!["carrier", "tracking_number"],
        ),
        (json!({"carrier": "UPS"}), vec!["tracking_number"]),
    ] {
        let answer = refused(&app, Method::POST, &ship, &seller, Some(body.clone()), 400).await;
        let named: Vec<&str> = answer
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(named, fields, "{body}");
    }
    let dispute = format!("/api/v1/orders/{}/dispute/", order["id"].as_str().unwrap());
    let buyer = As::buyer();
    for (body, field) in [
        (json!({"reason": "x".repeat(5001)}), "reason"),
        (json!({"reason": "short"}), "reason"),
        (json!({"reason": "A reason with a \u{0} null"}), "reason"),
        (
            json!({"reason": "A long enough reason.", "evidence": ["ftp://files.example/a"]}),
            "evidence",
        ),
        (
            json!({"reason": "A long enough reason.", "evidence": ["javascript:alert(1)"]}),
            "evidence",
        ),
        (
            json!({"reason": "A long enough reason.", "evidence": (0..21).map(|i| format!("https://e.example/{i}")).collect::<Vec<_>>()}),
            "evidence",
        ),
    ] {
        refused_field(&app, &dispute, &buyer, body, field).await;
    }
}

#[tokio::test]
async fn bad_dispute_updates_are_refused() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let order = app.paid_order(listing(1), "10.00").await;
    let opened = app
        .open_dispute(&order, Cast::buyer(), "Never arrived at all.")
        .await;
    let path = dispute_path(&opened);
    let admin = As::admin();
    for (body, field) in [
        (json!({"status": "DONE"}), "status"),
        (json!({"status": "RESOLVED"}), "resolution"),
        (json!({"resolution": "REFUND_BUYER"}), "resolution"),
        (
            json!({"status": "RESOLVED", "resolution": "PARTIAL_REFUND"}),
            "refund_amount",
        ),
        (
            json!({"status": "RESOLVED", "resolution": "PARTIAL_REFUND", "refund_amount": "20.00"}),
            "refund_amount",
        ),
        (
            json!({"status": "RESOLVED", "resolution": "REFUND_BUYER", "refund_amount": "1.00"}),
            "refund_amount",
        ),
        (json!({"admin_notes": "n".repeat(10_001)}), "admin_notes"),
        (json!({"admin_notes": "nul \u{0}"}), "admin_notes"),
    ] {
        let answer = refused(&app, Method::PATCH, &path, &admin, Some(body.clone()), 400).await;
        assert!(answer[field].is_array(), "{body}: {answer}");
    }
    let evidence = format!("{path}evidence/");
    let urls = json!({"urls": ["mailto:x@y.z"]});
    refused_field(&app, &evidence, &As::buyer(), urls, "urls").await;
}

#[tokio::test]
async fn non_uuid_path_ids_are_404() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let buyer = As::buyer();
    for (method, path) in [
        (Method::GET, "/api/v1/orders/42/"),
        (Method::POST, "/api/v1/orders/42/complete/"),
        (Method::GET, "/api/v1/disputes/abc/"),
        (Method::POST, "/api/v1/orders/not-a-listing/purchase/"),
    ] {
        let answer = refused(&app, method, path, &buyer, Some(json!({})), 404).await;
        assert_eq!(answer, json!({"detail": "Not found.", "code": "not_found"}));
    }
}

#[tokio::test]
async fn bad_list_parameters_are_named() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    for (query, field) in [
        ("status=LOST", "status"),
        ("role=owner", "role"),
        ("ordering=amount", "ordering"),
        ("created_after=yesterday", "created_after"),
        ("created_after=0000-01-01T00:00:00Z", "created_after"),
        ("listing_id=7", "listing_id"),
        ("page_size=lots", "page_size"),
        ("colour=red", "colour"),
    ] {
        let answer = refused_list(&app, query, 400).await;
        assert!(answer[field].is_array(), "{query}: {answer}");
    }
    for query in ["page=0", "page=abc", "page=9", "cursor=garbage"] {
        let answer = refused_list(&app, query, 404).await;
        assert!(
            answer["detail"].as_str().unwrap().starts_with("Invalid"),
            "{query}: {answer}"
        );
    }
}
