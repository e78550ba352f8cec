//! The HTTP conventions callers rely on: paths, errors, request ids, idempotency keys,
//! pagination links.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{listing, results, seed, As, Cast, TestApp};

#[tokio::test]
async fn paths_work_with_and_without_the_trailing_slash() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let with = app.get("/api/v1/orders/", &As::buyer()).await;
    let without = app.get("/api/v1/orders", &As::buyer()).await;
    assert_eq!(
        (with.status, without.status),
        (StatusCode::OK, StatusCode::OK)
    );
    let order = app.paid_order(listing(1), "10.00").await;
    let ship = format!("/api/v1/orders/{}/ship", order["id"].as_str().unwrap());
    let shipped = app
        .post(
            &ship,
            &As::seller(),
            json!({"tracking_number": "T-1", "carrier": "UPS"}),
        )
        .await;
    shipped.assert_status(StatusCode::OK);
    assert_eq!(
        app.get("/healthz", &As::Nobody).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_json() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let missing = app.get("/api/v1/nothing/", &As::buyer()).await;
    assert_eq!(
        (missing.status, missing.body),
        (
            StatusCode::NOT_FOUND,
            json!({"detail": "Not found.", "code": "not_found"})
        )
    );
    let wrong = app
        .call(Method::DELETE, "/api/v1/orders/", &As::buyer(), None)
        .await;
    wrong.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.body["detail"], "Method \"DELETE\" not allowed.");
    assert_eq!(
        wrong.headers["allow"], "GET, HEAD, OPTIONS",
        "a 405 names the methods the path serves"
    );
}

#[tokio::test]
async fn every_answer_carries_a_request_id_the_callers_own_if_given() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let generated = app.get("/api/v1/orders/", &As::Nobody).await;
    let id = generated.headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let given = app
        .call_with(
            Method::GET,
            "/healthz/",
            &As::Nobody,
            None,
            &[("X-Request-Id", "trace-abc-123")],
        )
        .await;
    assert_eq!(given.headers["x-request-id"], "trace-abc-123");
}

#[tokio::test]
async fn a_method_its_path_does_not_serve_is_a_405_under_any_key() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let path = format!("/api/v1/orders/{}/purchase/", listing(1));
    let buyer = As::buyer();
    let key = [("Idempotency-Key", "used-once")];
    let bought = app
        .call_with(Method::POST, &path, &buyer, Some(json!({})), &key)
        .await;
    bought.assert_status(StatusCode::CREATED);
    // The key names a purchase, but this request names no operation at all.
    let patched = app
        .call_with(Method::PATCH, &path, &buyer, Some(json!({})), &key)
        .await;
    assert_eq!(
        patched.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        patched.body
    );
    // Nor is anything kept for it: its key is still free for a real request.
    let other_key = [("Idempotency-Key", "first-sent-with-patch")];
    app.call_with(Method::PATCH, &path, &buyer, Some(json!({})), &other_key)
        .await;
    let posted = app
        .call_with(Method::POST, &path, &buyer, Some(json!({})), &other_key)
        .await;
    assert_ne!(
        posted.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        posted.body
    );
}

#[tokio::test]
async fn a_retried_post_with_the_same_key_replays_the_first_answer() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let path = format!("/api/v1/orders/{}/purchase/", listing(1));
    let buyer = As::buyer();
    let key = [("Idempotency-Key", "purchase-1")];
    let first = app
        .call_with(Method::POST, &path, &buyer, Some(json!({})), &key)
        .await;
    let again = app
        .call_with(Method::POST, &path, &buyer, Some(json!({})), &key)
        .await;
    first.assert_status(StatusCode::CREATED);
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.balance(Cast::buyer()).await, "865.00", "charged once");

    let other_body = app
        .call_with(
            Method::POST,
            &path,
            &buyer,
            Some(json!({"shipping_address": {"city": "Nice"}})),
            &key,
        )
        .await;
    assert_eq!(
        (other_body.status, other_body.body["code"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("idempotency_key_reused")
        )
    );

    // Keys belong to their caller: the same key from someone else is a new request.
    let stranger = app
        .call_with(Method::POST, &path, &As::stranger(), Some(json!({})), &key)
        .await;
    stranger.assert_status(StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_5xx_is_not_kept_and_the_retry_resumes_the_purchase_without_a_second_debit() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let path = format!("/api/v1/orders/{}/purchase/", listing(1));
    let buyer = As::buyer();
    let key = [("Idempotency-Key", "purchase-wallet-down")];
    app.fault(json!({"target": "wallet", "mode": "unavailable"}))
        .await;
    let down = app
        .call_with(Method::POST, &path, &buyer, Some(json!({})), &key)
        .await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.body
    );
    assert!(down.headers.contains_key("retry-after"));
    let pending = app.get("/api/v1/orders/", &buyer).await;
    assert_eq!(pending.body["results"][0]["status"], "PENDING_PAYMENT");

    app.clear_faults().await;
    let retried = app
        .call_with(Method::POST, &path, &buyer, Some(json!({})), &key)
        .await;
    retried.assert_status(StatusCode::CREATED);
    assert_eq!(retried.body["status"], "PAID");
    assert_eq!(
        retried.body["id"], pending.body["results"][0]["id"],
        "the same order, resumed"
    );
    // And once more without the key: the order is already paid, nothing moves.
    let without_key = app.post(&path, &buyer, json!({})).await;
    assert_eq!(
        (without_key.status, without_key.body["id"].clone()),
        (StatusCode::OK, retried.body["id"].clone())
    );
    assert_eq!(app.balance(Cast::buyer()).await, "865.00");
}

#[tokio::test]
async fn a_wallet_down_on_complete_is_503_and_changes_nothing() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "10.00").await;
    let path = format!("/api/v1/orders/{}/complete/", order["id"].as_str().unwrap());
    app.fault(json!({"target": "wallet", "mode": "unavailable"}))
        .await;
    let before = app.snapshot().await;
    let down = app.post(&path, &As::buyer(), json!({})).await;
    down.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.snapshot().await, before);
    assert_eq!(app.pending_intents().await, 1, "the release stays recorded");
    app.clear_faults().await;
    assert_eq!(
        app.post(&path, &As::buyer(), json!({})).await.body["status"],
        "COMPLETED"
    );
    assert_eq!(app.pending_intents().await, 0);
}

#[tokio::test]
async fn list_pages_link_to_each_other() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    for n in 1..=5 {
        app.auction_win(listing(n), "1.00").await;
    }
    let buyer = As::buyer();
    let first = app
        .get("/api/v1/orders/?page_size=2&status=PENDING_PAYMENT", &buyer)
        .await;
    assert_eq!(first.body["count"], 5);
    let next = first.body["next"].as_str().unwrap();
    assert!(
        next.contains("status=PENDING_PAYMENT") && next.contains("page=2"),
        "{next}"
    );
    let second = app.get(next.trim_start_matches(&app.url), &buyer).await;
    assert!(second.body["previous"]
        .as_str()
        .unwrap()
        .contains("page_size=2"));

    let top = app.get("/api/v1/orders/?cursor=&page_size=2", &buyer).await;
    assert!(top.body.get("count").is_none());
    let mut seen: Vec<String> = Vec::new();
    let mut page = top.body;
    loop {
        seen.extend(
            results(&page)
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => {
                page = app
                    .get(next.trim_start_matches(&app.url), &buyer)
                    .await
                    .body
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let previous = page["previous"].as_str().unwrap();
    let back = app
        .get(previous.trim_start_matches(&app.url), &buyer)
        .await
        .body;
    let ids: Vec<&str> = results(&back)
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, seen[2..4]);
}

#[tokio::test]
async fn readiness_follows_the_database() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    assert_eq!(
        app.get("/readyz/", &As::Nobody).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn numbered_pages_end_at_row_ten_thousand_and_point_to_the_cursor() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let admin = As::admin();
    let last = app
        .get("/api/v1/orders/?page=100&page_size=100", &admin)
        .await;
    assert_eq!(
        last.status,
        StatusCode::NOT_FOUND,
        "in range, but empty: DRF's answer"
    );
    for deep in [
        "/api/v1/orders/?page=101&page_size=100",
        "/api/v1/orders/?page=501",
        "/api/v1/disputes/?page=501",
    ] {
        let refused = app.get(deep, &admin).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{deep}: {}",
            refused.body
        );
        let hint = refused.body["page"][0].as_str().unwrap();
        assert!(hint.contains("cursor"), "{hint}");
    }
}

#[tokio::test]
async fn a_page_number_and_a_cursor_together_are_refused_naming_page() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let admin = As::admin();
    for both in [
        "/api/v1/orders/?page=1&cursor=",
        "/api/v1/disputes/?cursor=&page=2",
    ] {
        let refused = app.get(both, &admin).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{both}: {}",
            refused.body
        );
        assert_eq!(
            refused.body["page"][0],
            "Use either page or cursor, not both."
        );
    }
}

#[tokio::test]
async fn a_count_no_kept_count_answers_stops_at_the_cap_and_says_so() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO orders (id, listing_id, buyer_id, seller_id, source, amount, fee_amount,
                             shipping_cost, status, created_at)
         SELECT gen_random_uuid(), gen_random_uuid(), '{buyer}', '{seller}', 'AUCTION', 10.00,
                0.50, 0.00, 'PENDING_PAYMENT', timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'
         FROM generate_series(1, 10050) AS n",
        buyer = Cast::buyer(),
        seller = Cast::seller(),
    ))
    .await
    .unwrap();
    let admin = As::admin();

    let all = app.get("/api/v1/orders/", &admin).await.body;
    assert_eq!(
        (all["count"].clone(), all.get("count_exact")),
        (json!(10050), None),
        "kept"
    );

    let ranged = app
        .get("/api/v1/orders/?created_after=2026-01-01T00:00:00Z", &admin)
        .await
        .body;
    assert_eq!(ranged["count"], 10000);
    assert_eq!(ranged["count_exact"], false);
    assert_eq!(ranged["results"].as_array().unwrap().len(), 20);
    assert!(ranged["next"].is_string());

    let narrow = app
        .get(
            "/api/v1/orders/?created_before=2026-01-01T00:01:00Z",
            &admin,
        )
        .await
        .body;
    assert_eq!(
        (narrow["count"].clone(), narrow.get("count_exact")),
        (json!(59), None),
        "under the cap: exact"
    );

    let mine = app
        .get("/api/v1/orders/?role=buyer", &As::buyer())
        .await
        .body;
    assert_eq!(
        mine["count"], 10050,
        "a user's total is kept, whatever its size"
    );
}
