//! Settlement offers over HTTP: the seller offers, the buyer accepts or declines, and an
//! accepted offer resolves the dispute exactly as an admin's resolution would.

mod support;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{dispute_path, id, listing, one_winner, seed, Answer, As, Cast, TestApp};

/// A shipped order of 100.00 + 10.00 disputed by its buyer: the dispute's path.
async fn disputed(app: &TestApp, n: u128) -> (Value, String) {
    let order = app.shipped_order(listing(n), "100.00").await;
    let dispute = app
        .open_dispute(&order, Cast::buyer(), "It arrived scratched.")
        .await;
    (order, dispute_path(&dispute))
}

async fn offer(app: &TestApp, dispute: &str, amount: &str) -> Value {
    let made = app
        .post(
            &format!("{dispute}offers/"),
            &As::seller(),
            json!({"refund_amount": amount}),
        )
        .await;
    made.assert_status(StatusCode::CREATED);
    made.body
}

fn answer_path(dispute: &str, offer: &Value, answer: &str) -> String {
    format!("{dispute}offers/{}/{answer}/", id(offer))
}

/// The buyer answers `offer` on `dispute` with `answer` (accept or decline).
async fn buyer_answers(app: &TestApp, dispute: &str, offer: &Value, answer: &str) -> Answer {
    let path = answer_path(dispute, offer, answer);
    app.post(&path, &As::buyer(), json!({})).await
}

#[tokio::test]
async fn an_accepted_offer_resolves_the_dispute_as_an_admins_partial_refund_would() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (order, dispute) = disputed(&app, 1).await;
    let made = offer(&app, &dispute, "40.00").await;
    assert_eq!(made["status"], "PENDING");
    assert_eq!(made["refund_amount"], "40.00");
    assert_eq!(made["decided_at"], Value::Null);
    let read = app.get(&dispute, &As::buyer()).await.body;
    assert_eq!(read["offers"].as_array().unwrap().len(), 1);
    assert_eq!(
        read["allowed_actions"],
        json!(["accept_offer", "add_evidence", "decline_offer"])
    );

    let accepted = buyer_answers(&app, &dispute, &made, "accept").await;
    accepted.assert_status(StatusCode::OK);
    assert_eq!(accepted.body["status"], "RESOLVED");
    assert_eq!(accepted.body["resolution"], "PARTIAL_REFUND");
    assert_eq!(accepted.body["refund_amount"], "40.00");
    assert_eq!(accepted.body["offers"][0]["status"], "ACCEPTED");
    assert_eq!(app.order_now(&order).await["status"], "COMPLETED");
    assert_eq!(app.balance(Cast::buyer()).await, "930.00", "890.00 + 40.00");
    assert_eq!(app.ledger().await["held"], "0.00");
    let events = app.events_of(&id(&order)).await;
    assert_eq!(
        events[events.len() - 3..],
        ["dispute.offer_made", "order.completed", "dispute.resolved"]
    );
    let history = app.history_entries(&order).await;
    let resolved = history.last().unwrap();
    assert_eq!(resolved["actor"]["type"], "buyer", "the buyer decided");
}

#[tokio::test]
async fn an_offer_of_the_whole_total_accepted_refunds_the_buyer() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (order, dispute) = disputed(&app, 1).await;
    let made = offer(&app, &dispute, "110.00").await;
    let accepted = buyer_answers(&app, &dispute, &made, "accept").await;
    accepted.assert_status(StatusCode::OK);
    assert_eq!(accepted.body["resolution"], "REFUND_BUYER");
    assert_eq!(app.order_now(&order).await["status"], "REFUNDED");
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00");
}

#[tokio::test]
async fn a_new_offer_withdraws_the_pending_one_and_only_the_pending_one_is_answered() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (order, dispute) = disputed(&app, 1).await;
    let first = offer(&app, &dispute, "10.00").await;
    let second = offer(&app, &dispute, "20.00").await;
    let read = app.get(&dispute, &As::buyer()).await.body;
    assert_eq!(read["offers"][0]["status"], "WITHDRAWN");
    assert!(read["offers"][0]["decided_at"].is_string());
    assert_eq!(read["offers"][1]["status"], "PENDING");

    let stale = buyer_answers(&app, &dispute, &first, "accept").await;
    stale.assert_refused(StatusCode::CONFLICT, "offer_not_pending");

    let declined = buyer_answers(&app, &dispute, &second, "decline").await;
    declined.assert_status(StatusCode::OK);
    assert_eq!(declined.body["offers"][1]["status"], "DECLINED");
    assert_eq!(declined.body["status"], "OPEN", "the dispute goes on");
    let again = buyer_answers(&app, &dispute, &second, "accept").await;
    again.assert_refused(StatusCode::CONFLICT, "offer_not_pending");
    assert_eq!(
        app.events_of(&id(&order)).await.last().unwrap(),
        "dispute.offer_declined"
    );
    assert_eq!(app.ledger().await["held"], "110.00", "no money moved");
}

#[tokio::test]
async fn an_admins_resolution_withdraws_the_pending_offer() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (_, dispute) = disputed(&app, 1).await;
    let made = offer(&app, &dispute, "10.00").await;
    let resolved = app.resolve(&dispute, "RELEASE_SELLER").await;
    resolved.assert_status(StatusCode::OK);
    assert_eq!(resolved.body["offers"][0]["status"], "WITHDRAWN");
    let late = buyer_answers(&app, &dispute, &made, "accept").await;
    late.assert_refused(StatusCode::CONFLICT, "offer_not_pending");
    assert_eq!(app.balance(Cast::seller()).await, "105.00", "released once");
}

#[tokio::test]
async fn who_may_offer_and_answer_and_what_an_offer_may_be() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (_, dispute) = disputed(&app, 1).await;
    let offers = format!("{dispute}offers/");
    let ten = json!({"refund_amount": "10.00"});
    for (who, status) in [
        (As::buyer(), StatusCode::FORBIDDEN),
        (As::admin(), StatusCode::FORBIDDEN),
        (As::stranger(), StatusCode::NOT_FOUND),
        (As::Nobody, StatusCode::UNAUTHORIZED),
    ] {
        let answer = app.post(&offers, &who, ten.clone()).await;
        assert_eq!(answer.status, status, "{who:?}: {}", answer.body);
    }
    for amount in [
        json!("0.00"),
        json!("110.01"),
        json!("abc"),
        json!("1.001"),
        Value::Null,
    ] {
        let answer = app
            .post(&offers, &As::seller(), json!({"refund_amount": amount}))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{amount}: {}",
            answer.body
        );
        assert!(answer.body["refund_amount"].is_array(), "{}", answer.body);
    }
    let made = offer(&app, &dispute, "10.00").await;
    for (who, status) in [
        (As::seller(), StatusCode::FORBIDDEN),
        (As::stranger(), StatusCode::NOT_FOUND),
    ] {
        let answer = app
            .post(&answer_path(&dispute, &made, "accept"), &who, json!({}))
            .await;
        assert_eq!(answer.status, status, "{who:?}: {}", answer.body);
    }
    let unknown = format!("{dispute}offers/{}/accept/", uuid::Uuid::nil());
    assert_eq!(
        app.post(&unknown, &As::buyer(), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    let read = app.get(&dispute, &As::seller()).await.body;
    assert_eq!(
        read["offers"].as_array().unwrap().len(),
        1,
        "nothing else was made"
    );
    assert_eq!(
        read["allowed_actions"],
        json!(["add_evidence", "make_offer"])
    );
}

#[tokio::test]
async fn a_resolved_dispute_takes_no_offer() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (_, dispute) = disputed(&app, 1).await;
    app.resolve(&dispute, "NO_ACTION").await;
    let late = app
        .post(
            &format!("{dispute}offers/"),
            &As::seller(),
            json!({"refund_amount": "1.00"}),
        )
        .await;
    late.assert_refused(StatusCode::CONFLICT, "invalid_transition");
    assert_eq!(late.body["status"], "RESOLVED");
}

#[tokio::test]
async fn one_offer_accepted_twice_at_once_refunds_once() {
    let app = TestApp::spawn(seed(0, "100000.00")).await;
    let mut cases = Vec::new();
    for n in 1..=8 {
        let (order, dispute) = disputed(&app, n).await;
        let made = offer(&app, &dispute, "40.00").await;
        cases.push((order, answer_path(&dispute, &made, "accept")));
    }
    let races = cases.iter().map(|(_, accept)| async {
        let who = As::buyer();
        let (a, b) = tokio::join!(
            app.post(accept, &who, json!({})),
            app.post(accept, &who, json!({}))
        );
        one_winner([a.status, b.status], "two accepts");
    });
    join_all(races).await;
    for (order, _) in &cases {
        assert_eq!(app.order_now(order).await["status"], "COMPLETED");
    }
    // 100000 − 8 × 110 paid, 8 × 40 back.
    assert_eq!(app.balance(Cast::buyer()).await, "99440.00");
}

#[tokio::test]
async fn an_offer_accepted_while_an_admin_resolves_has_one_winner_and_one_payout() {
    let app = TestApp::spawn(seed(0, "100000.00")).await;
    let mut cases = Vec::new();
    for n in 1..=8 {
        let (order, dispute) = disputed(&app, n).await;
        let made = offer(&app, &dispute, "40.00").await;
        cases.push((
            order,
            dispute.clone(),
            answer_path(&dispute, &made, "accept"),
        ));
    }
    let races = cases.iter().map(|(_, dispute, accept)| async {
        let (who, admin) = (As::buyer(), As::admin());
        let release = json!({"status": "RESOLVED", "resolution": "RELEASE_SELLER"});
        let (accepted, resolved) = tokio::join!(
            app.post(accept, &who, json!({})),
            app.patch(dispute, &admin, release)
        );
        one_winner([accepted.status, resolved.status], "accept vs release") == 0
    });
    let accepted = join_all(races).await.into_iter().filter(|a| *a).count() as u64;
    assert_eq!(
        app.balance(Cast::buyer()).await,
        format!("{}.00", 100_000 - 8 * 110 + 40 * accepted)
    );
    assert_eq!(app.ledger().await["held"], "0.00");
}

#[tokio::test]
async fn an_offer_whose_acceptance_is_in_flight_cannot_be_declined() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let (order, dispute) = disputed(&app, 1).await;
    let made = offer(&app, &dispute, "40.00").await;
    // The Wallet refunds, but its answer is lost: the acceptance is left in flight.
    app.fault(json!({"target": "wallet", "mode": "drop"})).await;
    let lost = buyer_answers(&app, &dispute, &made, "accept").await;
    assert_eq!(
        lost.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        lost.body
    );
    assert_eq!(app.balance(Cast::buyer()).await, "930.00", "refunded");
    app.clear_faults().await;

    let declined = buyer_answers(&app, &dispute, &made, "decline").await;
    declined.assert_refused(StatusCode::CONFLICT, "operation_in_progress");

    let accepted = buyer_answers(&app, &dispute, &made, "accept").await;
    accepted.assert_status(StatusCode::OK);
    assert_eq!(accepted.body["offers"][0]["status"], "ACCEPTED");
    assert_eq!(app.order_now(&order).await["status"], "COMPLETED");
    assert_eq!(app.balance(Cast::buyer()).await, "930.00", "refunded once");
}
