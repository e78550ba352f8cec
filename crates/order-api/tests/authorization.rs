//! Every endpoint and every kind of caller: exactly the status docs/api.md gives.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{dispute_path, id, listing, seed, As, Cast, TestApp, JWT_SECRET};

#[derive(Clone, Copy, Debug)]
enum Endpoint {
    ListOrders,
    GetOrder,
    Ship,
    Complete,
    Dispute,
    Purchase,
    Create,
    MarkPaid,
    Cancel,
    MarkDelivered,
    ListDisputes,
    GetDispute,
    UpdateDispute,
    AddEvidence,
}

/// Expected statuses for buyer, seller, stranger, admin and service, as docs/api.md gives them.
fn expected(endpoint: Endpoint) -> [u16; 5] {
    use Endpoint::*;
    match endpoint {
        ListOrders => [200, 200, 200, 200, 403],
        GetOrder => [200, 200, 404, 200, 403],
        Ship => [403, 200, 404, 403, 403],
        Complete => [200, 403, 404, 403, 403],
        Dispute => [201, 201, 404, 403, 403],
        // The body names the buyer: a user may only buy for themselves; a service for anyone.
        Purchase => [201, 403, 403, 403, 201],
        Create => [403, 403, 403, 403, 201],
        MarkPaid | Cancel | MarkDelivered => [403, 403, 403, 403, 200],
        ListDisputes => [403, 403, 403, 200, 403],
        GetDispute => [200, 200, 404, 200, 403],
        UpdateDispute => [403, 403, 404, 200, 403],
        AddEvidence => [200, 200, 404, 403, 403],
    }
}

/// Fresh state for one call of `endpoint` (listing `n` is this call's own), and the call.
async fn prepare(app: &TestApp, endpoint: Endpoint, n: u128) -> (Method, String, Option<Value>) {
    use Endpoint::*;
    let dispute = |order: Value| async move {
        let opened = app
            .open_dispute(&order, Cast::buyer(), "Not as described at all.")
            .await;
        dispute_path(&opened)
    };
    match endpoint {
        ListOrders => (Method::GET, "/api/v1/orders/".into(), None),
        GetOrder => {
            let order = app.paid_order(listing(n), "10.00").await;
            (Method::GET, format!("/api/v1/orders/{}/", id(&order)), None)
        }
        Ship => {
            let order = app.paid_order(listing(n), "10.00").await;
            let body = json!({"tracking_number": "T-1", "carrier": "DHL"});
            (
                Method::POST,
                format!("/api/v1/orders/{}/ship/", id(&order)),
                Some(body),
            )
        }
        Complete => {
            let order = app.shipped_order(listing(n), "10.00").await;
            (
                Method::POST,
                format!("/api/v1/orders/{}/complete/", id(&order)),
                Some(json!({})),
            )
        }
        Dispute => {
            let order = app.paid_order(listing(n), "10.00").await;
            let body = json!({"reason": "It never arrived here."});
            (
                Method::POST,
                format!("/api/v1/orders/{}/dispute/", id(&order)),
                Some(body),
            )
        }
        Purchase => (
            Method::POST,
            format!("/api/v1/orders/{}/purchase/", listing(n)),
            Some(json!({"buyer_id": Cast::buyer()})),
        ),
        Create => {
            let body = json!({"listing_id": listing(n), "buyer_id": Cast::buyer(), "seller_id": Cast::seller(), "amount": "5.00"});
            (
                Method::POST,
                "/api/v1/orders/internal/create/".into(),
                Some(body),
            )
        }
        MarkPaid => {
            let order = app.auction_win(listing(n), "10.00").await;
            let body = json!({"order_id": order["id"], "escrow_id": support::uuid(n)});
            (
                Method::POST,
                "/api/v1/orders/internal/mark-paid/".into(),
                Some(body),
            )
        }
        Cancel => {
            let order = app.auction_win(listing(n), "10.00").await;
            let body = json!({"order_id": order["id"], "reason": "unpaid"});
            (
                Method::POST,
                "/api/v1/orders/internal/cancel/".into(),
                Some(body),
            )
        }
        MarkDelivered => {
            let order = app.shipped_order(listing(n), "10.00").await;
            (
                Method::POST,
                "/api/v1/orders/internal/mark-delivered/".into(),
                Some(json!({"order_id": order["id"]})),
            )
        }
        ListDisputes => (Method::GET, "/api/v1/disputes/".into(), None),
        GetDispute => (
            Method::GET,
            dispute(app.paid_order(listing(n), "10.00").await).await,
            None,
        ),
        UpdateDispute => {
            let path = dispute(app.paid_order(listing(n), "10.00").await).await;
            (
                Method::PATCH,
                path,
                Some(json!({"admin_notes": "looked at it"})),
            )
        }
        AddEvidence => {
            let path = dispute(app.paid_order(listing(n), "10.00").await).await;
            (
                Method::POST,
                format!("{path}evidence/"),
                Some(json!({"urls": ["https://e.example/a.png"]})),
            )
        }
    }
}

const ALL: [Endpoint; 14] = [
    Endpoint::ListOrders,
    Endpoint::GetOrder,
    Endpoint::Ship,
    Endpoint::Complete,
    Endpoint::Dispute,
    Endpoint::Purchase,
    Endpoint::Create,
    Endpoint::MarkPaid,
    Endpoint::Cancel,
    Endpoint::MarkDelivered,
    Endpoint::ListDisputes,
    Endpoint::GetDispute,
    Endpoint::UpdateDispute,
    Endpoint::AddEvidence,
];

fn signed(claims: Value, secret: &str) -> String {
    order_testkit::sign(secret, &claims)
}

/// Credentials that must all be refused with 401.
fn bad_credentials() -> Vec<(&'static str, As)> {
    let now = chrono::Utc::now().timestamp();
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = json!({"sub": Cast::buyer(), "exp": now + 3600, "is_staff": true});
    let alg_none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(claims.clone())
    );
    let bearer = |token: String| As::Raw("Authorization", format!("Bearer {token}"));
    vec![
        ("anonymous", As::Nobody),
        ("garbage token", bearer("not-a-jwt".into())),
        (
            "expired token",
            bearer(signed(
                json!({"sub": Cast::buyer(), "exp": now - 3600}),
                JWT_SECRET,
            )),
        ),
        ("alg none token", bearer(alg_none)),
        (
            "wrongly signed token",
            bearer(signed(claims, "another-secret-0123456789")),
        ),
        (
            "no sub",
            bearer(signed(json!({"exp": now + 3600}), JWT_SECRET)),
        ),
        (
            "not a bearer",
            As::Raw("Authorization", "Basic dXNlcjpwYXNz".into()),
        ),
        (
            "bad service token",
            As::Raw("X-Service-Token", "guess".into()),
        ),
    ]
}

#[tokio::test]
async fn every_endpoint_answers_each_caller_exactly_as_the_spec_says() {
    let app = TestApp::spawn(seed(400, "100000.00")).await;
    let callers = [
        ("buyer", As::buyer()),
        ("seller", As::seller()),
        ("stranger", As::stranger()),
        ("admin", As::admin()),
        ("service", As::Service),
    ];
    let mut n = 0;
    let mut failures = Vec::new();
    for endpoint in ALL {
        for ((name, who), expected) in callers.iter().zip(expected(endpoint)) {
            n += 1;
            let (method, path, body) = prepare(&app, endpoint, n).await;
            let answer = app.call(method, &path, who, body).await;
            if answer.status.as_u16() != expected {
                failures.push(format!(
                    "{endpoint:?} as {name}: {} (expected {expected}) {}",
                    answer.status, answer.body
                ));
            }
        }
        for (name, who) in bad_credentials() {
            n += 1;
            let (method, path, body) = prepare(&app, endpoint, n).await;
            let answer = app.call(method, &path, &who, body).await;
            if answer.status != StatusCode::UNAUTHORIZED {
                failures.push(format!(
                    "{endpoint:?} with {name}: {} (expected 401)",
                    answer.status
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_stranger_gets_the_same_404_for_an_order_that_exists_and_one_that_does_not() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    let order = app.paid_order(listing(1), "10.00").await;
    let existing = app
        .get(&format!("/api/v1/orders/{}/", id(&order)), &As::stranger())
        .await;
    let missing = app
        .get(
            &format!("/api/v1/orders/{}/", support::uuid(404)),
            &As::stranger(),
        )
        .await;
    existing.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        (existing.status, existing.body.clone()),
        (missing.status, missing.body)
    );
    assert_eq!(
        existing.body,
        json!({"detail": "Not found.", "code": "not_found"})
    );
}

#[tokio::test]
async fn a_stranger_sees_none_of_the_orders_in_the_list() {
    let app = TestApp::spawn(seed(0, "100.00")).await;
    app.paid_order(listing(1), "10.00").await;
    let list = app.get("/api/v1/orders/", &As::stranger()).await;
    assert_eq!(list.body["count"], 0);
    let admin = app.get("/api/v1/orders/", &As::admin()).await;
    assert_eq!(admin.body["count"], 1);
}
