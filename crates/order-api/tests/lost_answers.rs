//! The wallet does the work but its answer never arrives, or arrives too late: the service
//! cannot know whether money moved. Every wallet call carries a key derived from the order
//! or the dispute, so the retry — the client's own, or the caller's later — is answered
//! with the first outcome, and money moves exactly once.

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::{id, listing, seed, wait_up_to, Answer, As, Cast, TestApp};
use uuid::Uuid;

/// Every wallet answer cut after the work is done, until the faults are cleared.
async fn lose_every_wallet_answer(app: &TestApp) {
    app.fault(json!({"target": "wallet", "mode": "drop"})).await;
}

/// Asserts that `lost` was answered 503 and that `who`'s balance shows the Wallet moved
/// the money all the same: `balance`.
async fn assert_lost_after_the_wallet_moved(
    app: &TestApp,
    lost: &Answer,
    who: Uuid,
    balance: &str,
) {
    assert_eq!(
        lost.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        lost.body
    );
    assert_eq!(
        app.balance(who).await,
        balance,
        "the wallet moved the money"
    );
}

#[tokio::test]
async fn a_release_whose_first_answer_is_lost_is_retried_and_pays_the_seller_once() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    app.fault(json!({"target": "wallet", "mode": "drop", "times": 1}))
        .await;

    let completed = app.complete(&order).await;

    completed.assert_status(StatusCode::OK);
    assert_eq!(completed.body["status"], "COMPLETED");
    assert_eq!(app.balance(Cast::seller()).await, "105.00");
    assert_eq!(app.ledger().await["platform"], "5.00");
    assert_eq!(app.ledger().await["held"], "0.00");
}

#[tokio::test]
async fn a_release_whose_answers_are_all_lost_is_503_and_the_buyers_retry_pays_nothing_more() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    lose_every_wallet_answer(&app).await;
    let before = app.snapshot().await;

    let lost = app.complete(&order).await;

    assert_lost_after_the_wallet_moved(&app, &lost, Cast::seller(), "105.00").await;
    assert_eq!(app.snapshot().await, before, "the order is still SHIPPED");

    app.clear_faults().await;
    let retried = app.complete(&order).await;
    retried.assert_status(StatusCode::OK);
    assert_eq!(retried.body["status"], "COMPLETED");
    assert_eq!(app.balance(Cast::seller()).await, "105.00", "released once");
    assert_eq!(app.ledger().await["platform"], "5.00");
    assert_eq!(
        app.events_of(&id(&order)).await.last().unwrap(),
        "order.completed"
    );
}

#[tokio::test]
async fn a_hold_whose_answers_are_lost_leaves_the_order_pending_and_the_retry_debits_once() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let path = format!("/api/v1/orders/{}/purchase/", listing(1));
    let buyer = As::buyer();
    lose_every_wallet_answer(&app).await;

    let lost = app.post(&path, &buyer, json!({})).await;

    assert_lost_after_the_wallet_moved(&app, &lost, Cast::buyer(), "865.00").await;
    let pending = app.get("/api/v1/orders/", &buyer).await;
    assert_eq!(pending.body["results"][0]["status"], "PENDING_PAYMENT");

    app.clear_faults().await;
    let retried = app.post(&path, &buyer, json!({})).await;
    retried.assert_status(StatusCode::CREATED);
    assert_eq!(retried.body["status"], "PAID");
    assert_eq!(retried.body["id"], pending.body["results"][0]["id"]);
    assert_eq!(app.balance(Cast::buyer()).await, "865.00", "debited once");
    assert_eq!(app.ledger().await["held"], "135.00");
}

#[tokio::test]
async fn a_refund_whose_answers_are_lost_is_503_and_the_admins_retry_refunds_once() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let dispute = app.disputed_order(listing(1), "100.00").await;
    let refund = json!({"status": "RESOLVED", "resolution": "REFUND_BUYER"});
    lose_every_wallet_answer(&app).await;
    let before = app.snapshot().await;

    let lost = app.patch(&dispute, &As::admin(), refund.clone()).await;

    assert_lost_after_the_wallet_moved(&app, &lost, Cast::buyer(), "1000.00").await;
    assert_eq!(app.snapshot().await, before, "dispute OPEN, order DISPUTED");

    app.clear_faults().await;
    let retried = app.patch(&dispute, &As::admin(), refund).await;
    retried.assert_status(StatusCode::OK);
    assert_eq!(retried.body["resolution"], "REFUND_BUYER");
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00", "refunded once");
    assert_eq!(app.ledger().await["held"], "0.00");
}

#[tokio::test]
async fn a_wallet_slower_than_the_timeout_is_retried_and_moves_money_once() {
    // PEER_TIMEOUT is 2 s in the test app: the first attempt gives up, the retry is answered.
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    app.fault(json!({"target": "wallet", "mode": "delay", "delay_ms": 2500, "times": 1}))
        .await;

    let completed = app.complete(&order).await;

    completed.assert_status(StatusCode::OK);
    assert_eq!(completed.body["status"], "COMPLETED");
    // The abandoned attempt may still finish in the stand-in: it must not pay again.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(app.balance(Cast::seller()).await, "105.00");
    assert_eq!(app.ledger().await["held"], "0.00");
}

#[tokio::test]
async fn an_answer_that_says_try_again_is_not_kept_under_the_idempotency_key() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    // The Wallet releases the escrow, then answers late: the completion's money is in
    // flight meanwhile.
    app.fault(json!({"target": "wallet", "mode": "stall", "delay_ms": 1500, "times": 1}))
        .await;
    let complete_path = format!("/api/v1/orders/{}/complete/", id(&order));
    let buyer = As::buyer();
    let completing = app.post(&complete_path, &buyer, json!({}));
    let dispute_path = format!("/api/v1/orders/{}/dispute/", id(&order));
    let key = [("Idempotency-Key", "the-buyers-dispute")];
    let body = json!({"reason": "It arrived broken, see photos."});
    let dispute = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        app.call_with(
            reqwest::Method::POST,
            &dispute_path,
            &buyer,
            Some(body.clone()),
            &key,
        )
        .await
    };
    let (completed, wait) = tokio::join!(completing, dispute);
    completed.assert_status(StatusCode::OK);
    wait.assert_refused(StatusCode::CONFLICT, "operation_in_progress");

    // The same request again, as the answer asked: decided now, not the old "try again".
    let again = app
        .call_with(
            reqwest::Method::POST,
            &dispute_path,
            &buyer,
            Some(body),
            &key,
        )
        .await;
    again.assert_refused(StatusCode::CONFLICT, "invalid_transition");
    assert!(!again.headers.contains_key("idempotent-replayed"));
}

#[tokio::test]
async fn a_resolution_whose_answer_is_lost_is_retried_with_its_key_and_answered_the_same() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let dispute = app.disputed_order(listing(1), "100.00").await;
    let refund = json!({"status": "RESOLVED", "resolution": "REFUND_BUYER"});
    let key = [("Idempotency-Key", "resolve-once")];
    let admin = As::admin();

    // The first answer reaches nobody; the admin's tool sends the same request again.
    let first = app
        .call_with(
            reqwest::Method::PATCH,
            &dispute,
            &admin,
            Some(refund.clone()),
            &key,
        )
        .await;
    let again = app
        .call_with(reqwest::Method::PATCH, &dispute, &admin, Some(refund), &key)
        .await;

    first.assert_status(StatusCode::OK);
    again.assert_status(StatusCode::OK);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00", "refunded once");
    assert_eq!(
        app.count("outbox", "event_type = 'order.refunded'").await,
        1
    );
}

#[tokio::test]
async fn a_request_cut_by_a_crash_is_answered_on_its_retry_within_seconds_not_minutes() {
    let app = &TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    let path = format!("/api/v1/orders/{}/complete/", id(&order));
    let key = [("Idempotency-Key", "complete-once")];
    // The replica handling the request dies holding the request's key.
    app.complete_cut_by_a_crash(&order, &key).await;

    // The buyer's app sends the same request again to another replica, for as long as it
    // is told to try again. The key's claim died with its process, so the retry runs; once
    // the dead replica's intent is past PAYMENT_RESUME_AFTER, it finishes that release.
    let buyer = As::buyer();
    let mut answer = None;
    wait_up_to(
        "an answer other than \"try again\"",
        std::time::Duration::from_secs(15),
        async || {
            let retried = app
                .call_with(reqwest::Method::POST, &path, &buyer, Some(json!({})), &key)
                .await;
            let busy = ["idempotency_in_progress", "operation_in_progress"]
                .contains(&retried.body["code"].as_str().unwrap_or_default());
            answer = Some(retried);
            !busy
        },
    )
    .await;
    let answer = answer.unwrap();

    answer.assert_status(StatusCode::OK);
    assert_eq!(answer.body["status"], "COMPLETED");
    assert_eq!(app.balance(Cast::seller()).await, "105.00", "released once");
}
