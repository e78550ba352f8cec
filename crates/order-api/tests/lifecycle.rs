//! The order's whole life through HTTP only: money and statuses as docs/domain.md says.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{dispute_path, id, listing, seed, As, Cast, TestApp};

#[tokio::test]
async fn an_auction_win_is_paid_shipped_and_completed_and_the_seller_gets_total_less_fee() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let created = app.auction_win(listing(1), "200.00").await;
    assert_eq!(created["status"], "PENDING_PAYMENT");
    assert_eq!(created["source"], "AUCTION");
    assert_eq!(created["fee_amount"], "10.00");
    assert_eq!(created["total"], "210.00");

    let shipped = app.shipped_order(listing(2), "200.00").await;
    assert_eq!(shipped["status"], "SHIPPED");
    assert!(shipped["auto_complete_at"].is_string());

    let completed = app.complete(&shipped).await;
    completed.assert_status(StatusCode::OK);
    assert_eq!(completed.body["status"], "COMPLETED");
    assert_eq!(completed.body["auto_complete_at"], Value::Null);
    assert_eq!(
        app.balance(Cast::seller()).await,
        "200.00",
        "210.00 total − 10.00 fee"
    );
    assert_eq!(app.ledger().await["platform"], "10.00");
    assert_eq!(app.balance(Cast::buyer()).await, "790.00");
    assert_eq!(
        app.events_of(&id(&shipped)).await,
        [
            "order.created",
            "order.paid",
            "order.shipped",
            "order.completed"
        ]
    );
}

#[tokio::test]
async fn buy_it_now_holds_the_total_and_answers_the_paid_order() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let bought = app
        .post(
            &format!("/api/v1/orders/{}/purchase/", listing(1)),
            &As::buyer(),
            json!({"shipping_address": {"name": "B. Uyer", "city": "Lyon"}}),
        )
        .await;
    bought.assert_status(StatusCode::CREATED);
    assert_eq!(bought.body["status"], "PAID");
    assert_eq!(bought.body["source"], "BUY_NOW");
    assert_eq!(bought.body["total"], "135.00");
    assert!(bought.body["escrow_id"].is_string());
    assert_eq!(app.balance(Cast::buyer()).await, "865.00");
    assert_eq!(app.ledger().await["held"], "135.00");
}

#[tokio::test]
async fn a_declined_buy_it_now_is_402_and_cancels_the_order() {
    let app = TestApp::spawn(seed(1, "100.00")).await;
    let declined = app.purchase(listing(1)).await;
    declined.assert_refused(StatusCode::PAYMENT_REQUIRED, "insufficient_funds");
    let orders = app.get("/api/v1/orders/", &As::buyer()).await;
    assert_eq!(orders.body["count"], 1);
    assert_eq!(orders.body["results"][0]["status"], "CANCELLED");
    assert_eq!(app.balance(Cast::buyer()).await, "100.00");
}

/// A shipped order disputed by its buyer, the dispute then resolved with `resolution` (and
/// `refund_amount` where given): the order as its buyer reads it, and the dispute.
async fn decide(app: &TestApp, resolution: &str, refund_amount: Option<&str>) -> (Value, Value) {
    let mut decision = json!({"status": "RESOLVED", "resolution": resolution});
    if let Some(amount) = refund_amount {
        decision["refund_amount"] = json!(amount);
    }
    let order = app.shipped_order(listing(1), "100.00").await;
    let opened = app
        .open_dispute_with(
            &order,
            Cast::buyer(),
            json!({"reason": "The lens arrived cracked.", "evidence": ["https://img.example.com/lens.jpg"]}),
        )
        .await;
    assert_eq!(opened["status"], "OPEN");
    let path = dispute_path(&opened);
    let decided = app.patch(&path, &As::admin(), decision).await;
    decided.assert_status(StatusCode::OK);
    let order = app
        .get(&format!("/api/v1/orders/{}/", id(&order)), &As::buyer())
        .await;
    (order.body, decided.body)
}

#[tokio::test]
async fn refund_buyer_returns_the_whole_escrow_and_ends_refunded() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (order, dispute) = decide(&app, "REFUND_BUYER", None).await;
    assert_eq!(order["status"], "REFUNDED");
    assert_eq!(order["dispute"]["resolution"], "REFUND_BUYER");
    assert_eq!(dispute["resolution"], "REFUND_BUYER");
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00");
    assert_eq!(app.balance(Cast::seller()).await, "0.00");
    assert_eq!(
        app.events_of(&id(&order)).await[3..],
        ["order.disputed", "order.refunded", "dispute.resolved"]
    );
}

#[tokio::test]
async fn release_seller_completes_the_order_and_pays_the_seller() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (order, _) = decide(&app, "RELEASE_SELLER", None).await;
    assert_eq!(order["status"], "COMPLETED");
    assert_eq!(
        app.balance(Cast::seller()).await,
        "105.00",
        "110.00 − 5.00 fee"
    );
    assert_eq!(app.ledger().await["platform"], "5.00");
}

#[tokio::test]
async fn partial_refund_splits_the_escrow_with_the_fee_on_what_the_seller_keeps() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (order, dispute) = decide(&app, "PARTIAL_REFUND", Some("40.00")).await;
    assert_eq!(order["status"], "COMPLETED");
    assert_eq!(dispute["refund_amount"], "40.00");
    // Total 110.00: buyer 40.00; fee 5 % of (100.00 − 40.00) = 3.00; seller 67.00.
    assert_eq!(app.balance(Cast::buyer()).await, "930.00");
    assert_eq!(app.ledger().await["platform"], "3.00");
    assert_eq!(app.balance(Cast::seller()).await, "67.00");
}

#[tokio::test]
async fn no_action_returns_the_order_to_the_status_it_had_before_the_dispute() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (order, dispute) = decide(&app, "NO_ACTION", None).await;
    assert_eq!(order["status"], "SHIPPED");
    assert_eq!(dispute["status"], "RESOLVED");
    assert_eq!(app.ledger().await["held"], "110.00", "no money moved");
    // The order goes on: the buyer can still confirm it.
    let completed = app.complete(&order).await;
    assert_eq!(completed.body["status"], "COMPLETED");
}

#[tokio::test]
async fn a_dispute_moves_forward_through_its_statuses_and_collects_evidence() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.paid_order(listing(1), "50.00").await;
    let opened = app
        .open_dispute(
            &order,
            Cast::seller(),
            "The buyer asks for a different colour.",
        )
        .await;
    let path = dispute_path(&opened);
    let evidence = app
        .add_evidence(&opened, Cast::buyer(), "https://e.example/1.png")
        .await;
    evidence.assert_status(StatusCode::OK);
    assert_eq!(
        evidence.body["evidence"],
        json!(["https://e.example/1.png"])
    );
    let review = app
        .patch(
            &path,
            &As::admin(),
            json!({"status": "REVIEW", "admin_notes": "checking"}),
        )
        .await;
    assert_eq!(
        (
            review.body["status"].clone(),
            review.body["admin_notes"].clone()
        ),
        (json!("REVIEW"), json!("checking"))
    );
    let back = app
        .patch(&path, &As::admin(), json!({"status": "OPEN"}))
        .await;
    back.assert_status(StatusCode::CONFLICT);
    assert_eq!(
        (back.body["code"].clone(), back.body["status"].clone()),
        (json!("invalid_transition"), json!("REVIEW"))
    );
    let late = app
        .add_evidence(&opened, Cast::buyer(), "https://e.example/2.png")
        .await;
    late.assert_status(StatusCode::CONFLICT);
    let listed = app
        .get("/api/v1/disputes/?status=REVIEW", &As::admin())
        .await;
    assert_eq!(listed.body["count"], 1);
}

#[tokio::test]
async fn internal_cancel_and_mark_delivered_move_the_order() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let unpaid = app.auction_win(listing(1), "20.00").await;
    let cancelled = app
        .internal(
            "cancel",
            json!({"order_id": unpaid["id"], "reason": "Payment window expired"}),
        )
        .await;
    assert_eq!(cancelled.body["status"], "CANCELLED", "{}", cancelled.body);
    let shipped = app.shipped_order(listing(2), "20.00").await;
    let delivered = app
        .internal("mark-delivered", json!({"order_id": shipped["id"]}))
        .await;
    assert_eq!(delivered.body["status"], "DELIVERED", "{}", delivered.body);
    assert!(delivered.body["delivered_at"].is_string());
}

#[tokio::test]
async fn retried_internal_calls_are_idempotent() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let created = app.auction_win(listing(1), "20.00").await;
    let again = app
        .post(
            "/api/v1/orders/internal/create/",
            &As::Service,
            json!({"listing_id": listing(1), "buyer_id": Cast::buyer(), "seller_id": Cast::seller(),
                   "amount": "20.00", "shipping_cost": "10.00", "shipping_address": {"city": "Lyon"}}),
        )
        .await;
    assert_eq!(
        (again.status, again.body["id"].clone()),
        (StatusCode::OK, created["id"].clone())
    );
    let other = app.internal("create", json!({"listing_id": listing(1), "buyer_id": Cast::buyer(), "seller_id": Cast::seller(), "amount": "21.00"})).await;
    other.assert_status(StatusCode::CONFLICT);
    assert_eq!(app.events_of(&id(&created)).await, ["order.created"]);
}
