//! Settling an order outside a dispute, over HTTP: the seller's and an admin's refund, an
//! admin's release, split, cancellation and extension; who may, from which status, with
//! which money; and the races between them and the parties.

mod support;

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{id, listing, one_winner, seed, token, wait_until, As, Cast, TestApp};

fn path(order: &Value, action: &str) -> String {
    format!("/api/v1/orders/{}/{action}/", id(order))
}

fn reason() -> Value {
    json!({"reason": "Lost in the post."})
}

/// The order's history: each event's type and details.
async fn history(app: &TestApp, order: &Value) -> Vec<(String, Value)> {
    let entries = app.history_entries(order).await;
    entries
        .iter()
        .map(|entry| {
            let event_type = entry["event_type"].as_str().unwrap().to_owned();
            (event_type, entry["details"].clone())
        })
        .collect()
}

#[tokio::test]
async fn the_seller_refunds_a_shipped_order_and_the_buyer_gets_the_whole_total_back() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    let refunded = app
        .post(&path(&order, "refund"), &As::seller(), reason())
        .await;
    refunded.assert_status(StatusCode::OK);
    assert_eq!(refunded.body["status"], "REFUNDED");
    assert_eq!(refunded.body["auto_complete_at"], Value::Null);
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00");
    assert_eq!(app.balance(Cast::seller()).await, "0.00");
    let (event, details) = history(&app, &order).await.pop().unwrap();
    assert_eq!(event, "order.refunded");
    assert_eq!(details["reason"], "Lost in the post.");
    assert_eq!(details["settlement"]["buyer_refund"], "110.00");
}

#[tokio::test]
async fn an_admin_releases_a_shipped_order_as_its_completion_would() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    let released = app
        .post(&path(&order, "release"), &As::admin(), reason())
        .await;
    released.assert_status(StatusCode::OK);
    assert_eq!(released.body["status"], "COMPLETED");
    assert_eq!(
        app.balance(Cast::seller()).await,
        "105.00",
        "110.00 − 5.00 fee"
    );
    assert_eq!(app.ledger().await["platform"], "5.00");
    assert_eq!(
        app.events_of(&id(&order)).await.last().unwrap(),
        "order.completed"
    );
}

#[tokio::test]
async fn an_admin_splits_the_escrow_between_buyer_and_seller() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    let settled = app
        .post(
            &path(&order, "settle"),
            &As::admin(),
            json!({"refund_amount": "40.00", "reason": "Scratched on arrival."}),
        )
        .await;
    settled.assert_status(StatusCode::OK);
    assert_eq!(settled.body["status"], "COMPLETED");
    let ledger = app.ledger().await;
    assert_eq!(
        app.balance(Cast::buyer()).await,
        "930.00",
        "890.00 + 40.00 back"
    );
    let seller: f64 = app.balance(Cast::seller()).await.parse().unwrap();
    let platform: f64 = ledger["platform"].as_str().unwrap().parse().unwrap();
    assert_eq!(seller + platform, 70.0, "the rest of 110.00, to the cent");
    let (_, details) = history(&app, &order).await.pop().unwrap();
    assert_eq!(details["settlement"]["buyer_refund"], "40.00");
}

#[tokio::test]
async fn an_admin_cancels_an_unpaid_order_at_once_and_refunds_a_paid_one() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let unpaid = app.auction_win(listing(1), "100.00").await;
    let cancelled = app
        .post(&path(&unpaid, "cancel"), &As::admin(), reason())
        .await;
    cancelled.assert_status(StatusCode::OK);
    assert_eq!(cancelled.body["status"], "CANCELLED");

    let paid = app.paid_order(listing(2), "100.00").await;
    let cancelled = app
        .post(&path(&paid, "cancel"), &As::admin(), reason())
        .await;
    cancelled.assert_status(StatusCode::OK);
    assert_eq!(cancelled.body["status"], "CANCELLED");
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00");
    let answer = app.get(&path(&paid, "history"), &As::admin()).await;
    let last = answer.body["results"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actor"]["type"], "admin");
    assert_eq!(last["details"]["reason"], "Lost in the post.");
}

#[tokio::test]
async fn an_admin_extends_the_running_deadline_and_the_event_says_from_when_to_when() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.paid_order(listing(1), "100.00").await;
    let ship_by: chrono::DateTime<chrono::Utc> =
        order["ship_by"].as_str().unwrap().parse().unwrap();
    let to = ship_by + chrono::TimeDelta::days(2);
    let extended = app
        .post(
            &path(&order, "extend"),
            &As::admin(),
            json!({"ship_by": to, "reason": "Carrier strike."}),
        )
        .await;
    extended.assert_status(StatusCode::OK);
    assert_eq!(extended.body["status"], "PAID");
    let shown: chrono::DateTime<chrono::Utc> =
        extended.body["ship_by"].as_str().unwrap().parse().unwrap();
    assert_eq!(shown, to);
    let (event, details) = history(&app, &order).await.pop().unwrap();
    assert_eq!(event, "order.deadline_extended");
    assert_eq!(details["deadline"], "ship_by");
    assert_eq!(details["reason"], "Carrier strike.");
    let (from, until): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = (
        details["from"].as_str().unwrap().parse().unwrap(),
        details["to"].as_str().unwrap().parse().unwrap(),
    );
    assert_eq!((from, until), (ship_by, to));
}

#[tokio::test]
async fn only_the_seller_and_admins_refund_and_only_admins_do_the_rest() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    let settle = json!({"refund_amount": "1.00", "reason": "x"});
    let extend = json!({"auto_complete_at": "2030-01-01T00:00:00Z", "reason": "x"});
    let [buyer, seller, stranger] = [Cast::buyer(), Cast::seller(), Cast::stranger()].map(As::User);
    let cases = [
        ("refund", &buyer, reason(), StatusCode::FORBIDDEN),
        ("refund", &stranger, reason(), StatusCode::NOT_FOUND),
        ("release", &seller, reason(), StatusCode::FORBIDDEN),
        ("release", &buyer, reason(), StatusCode::FORBIDDEN),
        ("settle", &seller, settle.clone(), StatusCode::FORBIDDEN),
        ("settle", &stranger, settle, StatusCode::NOT_FOUND),
        ("extend", &buyer, extend, StatusCode::FORBIDDEN),
        ("refund", &As::Service, reason(), StatusCode::FORBIDDEN),
        ("refund", &As::Nobody, reason(), StatusCode::UNAUTHORIZED),
    ];
    for (action, who, body, status) in cases {
        let answer = app.post(&path(&order, action), who, body).await;
        assert_eq!(
            answer.status, status,
            "{action} by {who:?}: {}",
            answer.body
        );
    }
    app.assert_untouched(&order, "SHIPPED", 3).await;
}

#[tokio::test]
async fn a_disputed_order_is_settled_through_its_dispute_only() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    app.open_dispute(&order, Cast::buyer(), "It never arrived.")
        .await;
    let before = app.order_now(&order).await;
    for (action, body) in [
        ("refund", reason()),
        ("release", reason()),
        ("settle", json!({"refund_amount": "1.00", "reason": "x"})),
        ("cancel", reason()),
        (
            "extend",
            json!({"auto_complete_at": "2030-01-01T00:00:00Z", "reason": "x"}),
        ),
    ] {
        let answer = app.post(&path(&order, action), &As::admin(), body).await;
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            answer.body
        );
        assert_eq!(answer.body["code"], "order_disputed", "{action}");
    }
    assert_eq!(app.order_now(&order).await, before);
    assert_eq!(app.ledger().await["held"], "110.00");
}

#[tokio::test]
async fn bad_amounts_times_and_reasons_are_refused_on_their_field_and_change_nothing() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    let auto: chrono::DateTime<chrono::Utc> =
        order["auto_complete_at"].as_str().unwrap().parse().unwrap();
    let far = chrono::Utc::now() + chrono::TimeDelta::days(31);
    let settle = |amount: &str| json!({"refund_amount": amount, "reason": "x"});
    let complete_at = |at: Value| json!({"auto_complete_at": at, "reason": "x"});
    let cases = [
        ("settle", settle("0.00"), "refund_amount"),
        ("settle", settle("110.00"), "refund_amount"),
        ("settle", settle("-1"), "refund_amount"),
        ("settle", settle("1.001"), "refund_amount"),
        ("settle", settle("abc"), "refund_amount"),
        ("settle", json!({"reason": "x"}), "refund_amount"),
        ("refund", json!({}), "reason"),
        ("refund", json!({"reason": ""}), "reason"),
        ("release", json!({"reason": "x".repeat(501)}), "reason"),
        ("extend", json!({"reason": "x"}), "non_field_errors"),
        ("extend", json!({"ship_by": far, "reason": "x"}), "ship_by"),
        (
            "extend",
            complete_at(json!(auto - chrono::TimeDelta::hours(1))),
            "auto_complete_at",
        ),
        ("extend", complete_at(json!(far)), "auto_complete_at"),
        ("extend", complete_at(json!("tomorrow")), "auto_complete_at"),
    ];
    for (action, body, field) in cases {
        let answer = app
            .post(&path(&order, action), &As::admin(), body.clone())
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{action} {body}: {}",
            answer.body
        );
        assert!(
            answer.body[field].is_array(),
            "{action} {body}: {}",
            answer.body
        );
    }
    app.assert_untouched(&order, "SHIPPED", 3).await;
}

#[tokio::test]
async fn the_wrong_status_is_an_invalid_transition() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let paid = app.paid_order(listing(1), "100.00").await;
    for action in ["release", "settle"] {
        let body = json!({"refund_amount": "1.00", "reason": "x"});
        let answer = app.post(&path(&paid, action), &As::admin(), body).await;
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            answer.body
        );
        assert_eq!(answer.body["code"], "invalid_transition");
        assert_eq!(answer.body["status"], "PAID");
    }
}

#[tokio::test]
async fn an_admin_reads_the_operator_actions_that_apply() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    assert_eq!(
        app.order_now(&order).await["allowed_actions"],
        json!(["extend", "refund", "release", "settle"])
    );
    let seller = app.get(&path(&order, ""), &As::seller()).await;
    assert_eq!(seller.body["allowed_actions"], json!(["dispute", "refund"]));
}

#[tokio::test]
async fn a_sellers_refund_racing_the_buyers_completion_moves_the_money_once() {
    let app = TestApp::spawn(seed(0, "100000.00")).await;
    let mut orders = Vec::new();
    for n in 1..=10 {
        orders.push(app.shipped_order(listing(n), "100.00").await);
    }
    let races = orders.iter().map(|order| async {
        let (refund_path, complete_path) = (path(order, "refund"), path(order, "complete"));
        let (seller, buyer) = (As::seller(), As::buyer());
        let (refund, complete) = tokio::join!(
            app.post(&refund_path, &seller, reason()),
            app.post(&complete_path, &buyer, json!({})),
        );
        one_winner([refund.status, complete.status], "refund vs complete") == 0
    });
    let refunds = join_all(races).await.into_iter().filter(|r| *r).count();
    let completions = 10 - refunds;
    let ledger = app.ledger().await;
    assert_eq!(ledger["held"], "0.00");
    assert_eq!(
        app.balance(Cast::seller()).await,
        format!("{}.00", 105 * completions)
    );
    for order in &orders {
        let events = app.events_of(&id(order)).await;
        assert_eq!(events.len(), 4, "one ending each: {events:?}");
    }
}

#[tokio::test]
async fn an_admins_release_racing_the_buyers_dispute_has_one_winner() {
    let app = TestApp::spawn(seed(0, "100000.00")).await;
    let mut orders = Vec::new();
    for n in 1..=10 {
        orders.push(app.shipped_order(listing(n), "100.00").await);
    }
    let races = orders.iter().map(|order| async {
        let (release_path, dispute_path) = (path(order, "release"), path(order, "dispute"));
        let (admin, buyer) = (As::admin(), As::buyer());
        let (release, dispute) = tokio::join!(
            app.post(&release_path, &admin, reason()),
            app.post(
                &dispute_path,
                &buyer,
                json!({"reason": "It never arrived."})
            ),
        );
        one_winner([release.status, dispute.status], "release vs dispute");
    });
    join_all(races).await;
    let ledger = app.ledger().await;
    for order in &orders {
        let now = app.order_now(order).await;
        assert!(
            ["COMPLETED", "DISPUTED"].contains(&now["status"].as_str().unwrap()),
            "{now}"
        );
    }
    let completed = ledger["platform"].as_str().unwrap().parse::<f64>().unwrap() / 5.0;
    assert_eq!(
        app.balance(Cast::seller()).await.parse::<f64>().unwrap(),
        105.0 * completed
    );
}

/// An intent a dead replica left is finished by the worker once `resume_at` has passed.
const QUICK_RESUME: [(&str, &str); 2] = [
    ("PAYMENT_RESUME_AFTER", "1s"),
    ("DEADLINE_INTERVAL", "100ms"),
];

#[tokio::test]
async fn a_refund_and_a_split_cut_by_a_crash_after_the_wallet_paid_are_finished_once_by_the_worker()
{
    let app = &TestApp::spawn_with(seed(0, "1000.00"), &QUICK_RESUME).await;
    let admin_token = token(Cast::admin(), true);
    for (n, action, body, ending) in [
        (1, "refund", reason(), "REFUNDED"),
        (
            2,
            "settle",
            json!({"refund_amount": "40.00", "reason": "Scratched."}),
            "COMPLETED",
        ),
    ] {
        let order = app.shipped_order(listing(n), "100.00").await;
        app.cut_by_a_crash(&path(&order, action), &admin_token, body, &[])
            .await;
        assert_eq!(
            app.order_now(&order).await["status"],
            "SHIPPED",
            "not applied yet"
        );
        let workers = app.start_workers();
        wait_until("the worker finishes the payout", || async {
            app.order_now(&order).await["status"] == ending
        })
        .await;
        workers.stop(std::time::Duration::from_secs(5)).await;
        let events = app.events_of(&id(&order)).await;
        assert_eq!(events.len(), 4, "{action} applied once: {events:?}");
    }
    // 1000 − 2 × 110 paid, then 110 and 40 back; each payout made once.
    assert_eq!(app.balance(Cast::buyer()).await, "930.00");
    assert_eq!(app.ledger().await["held"], "0.00");
}

#[tokio::test]
async fn an_extension_racing_the_automatic_completion_has_one_winner() {
    let quick = [
        ("AUTO_COMPLETE_AFTER", "1s"),
        ("AUTO_COMPLETE_INTERVAL", "50ms"),
    ];
    let app = &TestApp::spawn_with(seed(0, "100000.00"), &quick).await;
    let mut orders = Vec::new();
    for n in 1..=6 {
        orders.push(app.shipped_order(listing(n), "100.00").await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let workers = app.start_workers();
    let to = chrono::Utc::now() + chrono::TimeDelta::days(1);
    let races = orders.iter().map(|order| async move {
        let body = json!({"auto_complete_at": to, "reason": "Buyer travelling."});
        let answer = app.post(&path(order, "extend"), &As::admin(), body).await;
        (order, answer)
    });
    let outcomes = join_all(races).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    workers.stop(std::time::Duration::from_secs(5)).await;
    let mut completed = 0;
    for (order, answer) in outcomes {
        let now = app.order_now(order).await;
        if answer.status == StatusCode::OK {
            assert_eq!(now["status"], "SHIPPED", "the extension won: {now}");
        } else {
            answer.assert_status(StatusCode::CONFLICT);
            assert_eq!(now["status"], "COMPLETED", "the completion won: {now}");
            completed += 1;
        }
    }
    assert_eq!(
        app.balance(Cast::seller()).await,
        format!("{}.00", 105 * completed),
        "each completion released once, no extended order released"
    );
}

#[tokio::test]
async fn a_payout_whose_answers_are_all_lost_is_503_changes_nothing_and_its_retry_pays_once() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    for (n, action, who, body, ending) in [
        (1, "refund", As::seller(), reason(), "REFUNDED"),
        (2, "release", As::admin(), reason(), "COMPLETED"),
        (
            3,
            "settle",
            As::admin(),
            json!({"refund_amount": "40.00", "reason": "Scratched."}),
            "COMPLETED",
        ),
    ] {
        let order = app.shipped_order(listing(n), "100.00").await;
        app.fault(json!({"target": "wallet", "mode": "drop"})).await;
        // What the order shows, less what may be done next: while the lost payout waits to
        // be carried on, only that same payout may be asked for again.
        let shown = |mut order: Value| {
            order["allowed_actions"].take();
            order
        };
        let before = shown(app.order_now(&order).await);
        let lost = app.post(&path(&order, action), &who, body.clone()).await;
        assert_eq!(
            lost.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{action}: {}",
            lost.body
        );
        let after = app.order_now(&order).await;
        assert_eq!(shown(after.clone()), before, "{action}: nothing shows");
        // A split is carried on only with the same amount, which a list cannot name.
        let again = if action == "settle" {
            json!([])
        } else {
            json!([action])
        };
        assert_eq!(after["allowed_actions"], again, "{action}");
        app.clear_faults().await;
        let retried = app.post(&path(&order, action), &who, body).await;
        assert_eq!(retried.status, StatusCode::OK, "{action}: {}", retried.body);
        assert_eq!(retried.body["status"], ending);
    }
    // Paid 3 × 110; back 110 (refund) and 40 (split): each payout made once.
    assert_eq!(app.balance(Cast::buyer()).await, "820.00");
    assert_eq!(app.ledger().await["held"], "0.00");
}

#[tokio::test]
async fn a_refund_repeated_with_its_idempotency_key_is_answered_the_same_and_refunds_once() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    let key = [("Idempotency-Key", "refund-once")];
    let refund = |body: Value| {
        let (app, path) = (&app, path(&order, "refund"));
        async move {
            app.call_with(
                reqwest::Method::POST,
                &path,
                &As::seller(),
                Some(body),
                &key,
            )
            .await
        }
    };
    let first = refund(reason()).await;
    first.assert_status(StatusCode::OK);
    let again = refund(reason()).await;
    again.assert_status(StatusCode::OK);
    assert_eq!(again.body, first.body, "the first answer, again");
    let other = refund(json!({"reason": "Another reason."})).await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.body
    );
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00", "refunded once");
    assert_eq!(app.events_of(&id(&order)).await.len(), 4);
}
