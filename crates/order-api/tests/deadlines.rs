//! The deadlines over HTTP, against real PostgreSQL and the stand-in Wallet: every deadline in
//! the representations, the deadline worker's effects (each once), and the cancellation of
//! a paid order with its full refund — with the ledger reconciled after each.

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{dispute_path, id, listing, seed, wait_until, As, Cast, TestApp};

/// Windows short enough for a test to see them pass, and a worker that sweeps often.
const QUICK: [(&str, &str); 5] = [
    ("PAYMENT_WINDOW", "1s"),
    ("SHIP_WITHIN", "1s"),
    ("DISPUTE_RESPONSE_WINDOW", "1s"),
    ("PAYMENT_RESUME_AFTER", "1s"),
    ("DEADLINE_INTERVAL", "100ms"),
];

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

async fn cancel(app: &TestApp, order: &Value, by: As) -> support::Answer {
    app.cancel(order, &by, "Out of stock.").await
}

const NEVER_ARRIVED: &str = "The parcel never arrived.";

#[tokio::test]
async fn each_deadline_shows_while_it_runs_and_is_null_otherwise() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let won = app.auction_win(listing(1), "100.00").await;
    assert_eq!(
        time(&won["pay_by"]),
        time(&won["created_at"]) + TimeDelta::days(4)
    );
    assert_eq!(
        (&won["ship_by"], &won["auto_complete_at"]),
        (&Value::Null, &Value::Null)
    );

    let paid = app.paid_order(listing(2), "100.00").await;
    assert_eq!(paid["pay_by"], Value::Null);
    assert_eq!(
        time(&paid["ship_by"]),
        time(&paid["paid_at"]) + TimeDelta::days(4)
    );

    let shipped = app.shipped_order(listing(3), "100.00").await;
    assert_eq!(shipped["ship_by"], Value::Null);
    assert_eq!(
        time(&shipped["auto_complete_at"]),
        time(&shipped["shipped_at"]) + TimeDelta::days(7)
    );

    let dispute = app
        .open_dispute(&shipped, Cast::buyer(), NEVER_ARRIVED)
        .await;
    assert_eq!(
        time(&dispute["respond_by"]),
        time(&dispute["created_at"]) + TimeDelta::days(3)
    );
    assert_eq!(
        (&dispute["responded_at"], &dispute["escalated_at"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(
        app.order_now(&shipped).await["auto_complete_at"],
        Value::Null,
        "paused while disputed"
    );
    app.ledger().await;
}

#[tokio::test]
async fn a_buy_it_now_order_never_has_a_payment_deadline() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let bought = app.purchase(listing(1)).await;
    bought.assert_status(StatusCode::CREATED);
    assert_eq!(bought.body["pay_by"], Value::Null);
    assert!(bought.body["ship_by"].is_string());
    assert_eq!(app.ledger().await["held"], "135.00");
}

#[tokio::test]
async fn the_worker_cancels_an_unpaid_auction_order_and_a_late_payment_is_refused() {
    let app = &TestApp::spawn_with(seed(0, "1000.00"), &QUICK).await;
    let won = app.auction_win(listing(1), "100.00").await;
    let _workers = app.start_workers();
    let watched = &won;
    wait_until("the unpaid order is cancelled", || async move {
        app.order_now(watched).await["status"] == "CANCELLED"
    })
    .await;
    let late = app
        .internal(
            "mark-paid",
            json!({"order_id": won["id"], "escrow_id": support::uuid(0xE5)}),
        )
        .await;
    late.assert_refused(StatusCode::CONFLICT, "order_cancelled");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.events_of(&id(&won)).await,
        ["order.created", "order.cancelled"],
        "cancelled once"
    );
    assert_eq!(
        app.count("orders", "cancellation_reason = 'payment window expired'")
            .await,
        1
    );
    app.ledger().await;
}

#[tokio::test]
async fn a_buy_it_now_cut_by_a_wallet_outage_is_resumed_by_the_worker_with_one_debit() {
    let app = &TestApp::spawn_with(seed(1, "1000.00"), &QUICK).await;
    app.fault(json!({"target": "wallet", "mode": "drop"})).await;
    let cut = app.purchase(listing(1)).await;
    cut.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.balance(Cast::buyer()).await,
        "865.00",
        "the hold was made"
    );
    assert_eq!(app.count("orders", "status = 'PENDING_PAYMENT'").await, 1);

    app.clear_faults().await;
    let _workers = app.start_workers();
    wait_until("the worker finishes the purchase", || async move {
        app.count("orders", "status = 'PAID'").await == 1
    })
    .await;
    assert_eq!(app.balance(Cast::buyer()).await, "865.00", "debited once");
    assert_eq!(app.ledger().await["held"], "135.00");
    assert_eq!(app.count("outbox", "event_type = 'order.paid'").await, 1);
    assert_eq!(
        app.count("outbox", "event_type = 'order.cancelled'").await,
        0
    );
}

#[tokio::test]
async fn a_late_shipment_is_announced_once_and_then_the_buyer_may_cancel_for_a_full_refund() {
    let app = &TestApp::spawn_with(seed(0, "1000.00"), &QUICK).await;
    let order = app.paid_order(listing(1), "100.00").await;
    let early = cancel(app, &order, As::buyer()).await;
    early.assert_refused(StatusCode::CONFLICT, "not_yet_overdue");

    let _workers = app.start_workers();
    wait_until("order.ship_overdue is raised", || async move {
        app.count("outbox", "event_type = 'order.ship_overdue'")
            .await
            > 0
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        app.count("outbox", "event_type = 'order.ship_overdue'")
            .await,
        1,
        "once per order"
    );

    let cancelled = cancel(app, &order, As::buyer()).await;
    cancelled.assert_status(StatusCode::OK);
    assert_eq!(cancelled.body["status"], "CANCELLED");
    assert_eq!(cancelled.body["ship_by"], Value::Null);
    assert!(cancelled.body["cancelled_at"].is_string());
    let ledger = app.ledger().await;
    assert_eq!(ledger["balances"][Cast::buyer().to_string()], "1000.00");
    assert_eq!(ledger["held"], "0.00");
    assert_eq!(ledger["platform"], "0.00");
    assert_eq!(
        app.events_of(&id(&order)).await,
        [
            "order.created",
            "order.paid",
            "order.ship_overdue",
            "order.cancelled"
        ]
    );
}

#[tokio::test]
async fn the_seller_may_cancel_a_paid_order_and_no_stranger_can() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.paid_order(listing(1), "100.00").await;
    assert_eq!(
        cancel(&app, &order, As::stranger()).await.status,
        StatusCode::NOT_FOUND
    );
    let no_reason = app.cancel(&order, &As::seller(), " ").await;
    no_reason.assert_status(StatusCode::BAD_REQUEST);
    assert!(no_reason.body["reason"].is_array(), "{}", no_reason.body);

    let cancelled = cancel(&app, &order, As::seller()).await;
    cancelled.assert_status(StatusCode::OK);
    assert_eq!(cancelled.body["status"], "CANCELLED");
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00");

    let again = cancel(&app, &order, As::seller()).await;
    again.assert_refused(StatusCode::CONFLICT, "invalid_transition");
    let shipped = app.shipped_order(listing(2), "100.00").await;
    let too_late = cancel(&app, &shipped, As::seller()).await;
    too_late.assert_refused(StatusCode::CONFLICT, "invalid_transition");
    assert_eq!(too_late.body["status"], "SHIPPED");
    assert_eq!(
        app.ledger().await["held"],
        "110.00",
        "the shipped order's escrow"
    );
}

#[tokio::test]
async fn a_wallet_failing_the_refund_changes_nothing_and_the_retry_refunds_once() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.paid_order(listing(1), "100.00").await;
    app.fault(json!({"target": "wallet", "mode": "unavailable"}))
        .await;
    let before = app.snapshot().await;
    let down = cancel(&app, &order, As::seller()).await;
    down.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.snapshot().await, before);
    assert_eq!(app.order_now(&order).await["status"], "PAID");

    // The wallet refunds, but the answer is lost: the retry must not refund twice.
    app.clear_faults().await;
    app.fault(json!({"target": "wallet", "mode": "drop"})).await;
    let lost = cancel(&app, &order, As::seller()).await;
    lost.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00", "refunded");
    assert_eq!(app.order_now(&order).await["status"], "PAID");

    app.clear_faults().await;
    let retried = cancel(&app, &order, As::seller()).await;
    retried.assert_status(StatusCode::OK);
    assert_eq!(retried.body["status"], "CANCELLED");
    assert_eq!(app.balance(Cast::buyer()).await, "1000.00", "refunded once");
    assert_eq!(app.ledger().await["held"], "0.00");
    assert_eq!(
        app.count("outbox", "event_type = 'order.cancelled'").await,
        1
    );
}

#[tokio::test]
async fn an_unanswered_dispute_is_escalated_and_an_answered_one_is_not() {
    let app = &TestApp::spawn_with(seed(0, "1000.00"), &QUICK).await;
    let silent = app.shipped_order(listing(1), "100.00").await;
    let answered = app.shipped_order(listing(2), "100.00").await;
    let ignored = app
        .open_dispute(&silent, Cast::buyer(), NEVER_ARRIVED)
        .await;
    let replied = app
        .open_dispute(&answered, Cast::buyer(), NEVER_ARRIVED)
        .await;
    let evidence = app
        .add_evidence(
            &replied,
            Cast::seller(),
            "https://img.example.com/receipt.jpg",
        )
        .await;
    evidence.assert_status(StatusCode::OK);
    assert_eq!(evidence.body["respond_by"], Value::Null);
    assert!(evidence.body["responded_at"].is_string());

    let _workers = app.start_workers();
    let watched = &ignored;
    wait_until("the silent dispute is escalated", || async move {
        app.dispute_now(watched).await["status"] == "REVIEW"
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let escalated = app.dispute_now(&ignored).await;
    assert!(escalated["escalated_at"].is_string());
    assert_eq!(escalated["respond_by"], Value::Null);
    assert_eq!(app.order_now(&silent).await["dispute"]["status"], "REVIEW");
    assert_eq!(app.dispute_now(&replied).await["status"], "OPEN");
    assert_eq!(
        app.count("outbox", "event_type = 'dispute.escalated'")
            .await,
        1
    );
    app.ledger().await;
}

#[tokio::test]
async fn no_action_gives_the_buyer_back_the_protection_time_the_dispute_paused() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let shipped = app.shipped_order(listing(1), "100.00").await;
    let due = time(&shipped["auto_complete_at"]);
    let dispute = app
        .open_dispute(&shipped, Cast::buyer(), NEVER_ARRIVED)
        .await;
    let left = due - time(&dispute["created_at"]);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let resolved = app.resolve(&dispute_path(&dispute), "NO_ACTION").await;
    resolved.assert_status(StatusCode::OK);
    let order = app.order_now(&shipped).await;
    assert_eq!(order["status"], "SHIPPED");
    assert_eq!(
        time(&order["auto_complete_at"]),
        time(&resolved.body["resolved_at"]) + left
    );
    assert!(
        time(&order["auto_complete_at"]) > due,
        "the dispute did not eat the window"
    );
}

/// Runs `a` and `b` at once; their statuses.
async fn race(
    a: impl std::future::Future<Output = support::Answer>,
    b: impl std::future::Future<Output = support::Answer>,
) -> (StatusCode, StatusCode) {
    let (a, b) = tokio::join!(a, b);
    (a.status, b.status)
}

fn one_winner(statuses: (StatusCode, StatusCode), winner: StatusCode) -> bool {
    let (a, b) = statuses;
    (a == winner) != (b == winner) && (a == StatusCode::CONFLICT || b == StatusCode::CONFLICT)
}

#[tokio::test]
async fn cancel_racing_ship_dispute_or_another_cancel_has_one_winner_and_moves_money_once() {
    let app = &TestApp::spawn(seed(0, "10000.00")).await;
    for round in 0..3u128 {
        let order = app.paid_order(listing(3 * round + 1), "100.00").await;
        let (ship_path, seller) = (format!("/api/v1/orders/{}/ship/", id(&order)), As::seller());
        let ship = app.post(
            &ship_path,
            &seller,
            json!({"tracking_number": "1Z-1", "carrier": "UPS"}),
        );
        let statuses = race(cancel(app, &order, As::seller()), ship).await;
        assert!(
            one_winner(statuses, StatusCode::OK),
            "cancel vs ship: {statuses:?}"
        );

        let order = app.paid_order(listing(3 * round + 2), "100.00").await;
        let (dispute_path, buyer) = (
            format!("/api/v1/orders/{}/dispute/", id(&order)),
            As::buyer(),
        );
        let dispute = app.post(&dispute_path, &buyer, json!({ "reason": NEVER_ARRIVED }));
        let (cancelled, disputed) = race(cancel(app, &order, As::seller()), dispute).await;
        assert!(
            (cancelled == StatusCode::OK) != (disputed == StatusCode::CREATED),
            "cancel vs dispute: {cancelled} {disputed}"
        );

        let order = app.paid_order(listing(3 * round + 3), "100.00").await;
        let statuses = race(
            cancel(app, &order, As::seller()),
            cancel(app, &order, As::seller()),
        )
        .await;
        assert!(
            one_winner(statuses, StatusCode::OK),
            "two cancels: {statuses:?}"
        );
    }
    // Every cancelled order's escrow went back; every other one is still held.
    let cancelled = app.count("orders", "status = 'CANCELLED'").await;
    let held = app.count("orders", "status <> 'CANCELLED'").await;
    let ledger = app.ledger().await;
    assert_eq!(
        ledger["held"],
        format!("{}.00", held * 110),
        "{cancelled} cancelled, {held} held"
    );
    assert_eq!(
        ledger["balances"][Cast::buyer().to_string()],
        format!("{}.00", 10000 - held * 110)
    );
    assert_eq!(
        app.count("outbox", "event_type = 'order.cancelled'").await,
        cancelled
    );
}

#[tokio::test]
async fn the_worker_racing_a_late_payment_cancels_or_lets_it_pay_never_both() {
    let app = &TestApp::spawn_with(
        seed(0, "1000.00"),
        &[("PAYMENT_WINDOW", "200ms"), ("DEADLINE_INTERVAL", "10ms")],
    )
    .await;
    let mut orders = Vec::new();
    for n in 1..=6 {
        orders.push(app.auction_win(listing(n), "10.00").await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let workers = app.start_workers();
    let mut answers = Vec::new();
    for (n, order) in orders.iter().enumerate() {
        tokio::time::sleep(std::time::Duration::from_millis(10 * n as u64)).await;
        let paid = app
            .internal(
                "mark-paid",
                json!({"order_id": order["id"], "escrow_id": support::uuid(0xE000 + n as u128)}),
            )
            .await;
        answers.push(paid);
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    workers.stop(std::time::Duration::from_secs(5)).await;
    for (order, answer) in orders.iter().zip(answers) {
        let events = app.events_of(&id(order)).await;
        match answer.status {
            StatusCode::OK => assert_eq!(events, ["order.created", "order.paid"]),
            StatusCode::CONFLICT => {
                assert_eq!(answer.body["code"], "order_cancelled");
                assert_eq!(events, ["order.created", "order.cancelled"]);
            }
            other => panic!("mark-paid answered {other}: {}", answer.body),
        }
    }
    app.ledger().await;
}

#[tokio::test]
async fn the_worker_racing_the_buyers_own_retry_of_a_cut_purchase_debits_once() {
    let app = &TestApp::spawn_with(seed(1, "1000.00"), &QUICK).await;
    app.fault(json!({"target": "wallet", "mode": "drop"})).await;
    let path = format!("/api/v1/orders/{}/purchase/", listing(1));
    let cut = app.post(&path, &As::buyer(), json!({})).await;
    cut.assert_status(StatusCode::SERVICE_UNAVAILABLE);

    app.clear_faults().await;
    let _workers = app.start_workers();
    let retry = app.post(&path, &As::buyer(), json!({})).await;
    assert!(
        [StatusCode::CREATED, StatusCode::OK, StatusCode::CONFLICT].contains(&retry.status),
        "{}: {}",
        retry.status,
        retry.body
    );
    if retry.status == StatusCode::CONFLICT {
        assert_eq!(
            retry.body["code"], "operation_in_progress",
            "the worker had it"
        );
    }
    wait_until("the purchase is paid", || async move {
        app.count("orders", "status = 'PAID'").await == 1
    })
    .await;
    assert_eq!(app.count("orders", "true").await, 1, "one order");
    assert_eq!(app.balance(Cast::buyer()).await, "865.00", "one debit");
    assert_eq!(app.count("outbox", "event_type = 'order.paid'").await, 1);
}

#[tokio::test]
async fn two_processes_running_the_deadline_worker_apply_each_effect_once() {
    let app = &TestApp::spawn_with(
        seed(0, "100000.00"),
        &[
            ("PAYMENT_WINDOW", "2s"),
            ("SHIP_WITHIN", "2s"),
            ("DISPUTE_RESPONSE_WINDOW", "2s"),
        ],
    )
    .await;
    let mut unpaid = Vec::new();
    let mut paid = Vec::new();
    let mut disputed = Vec::new();
    for n in 0..8u128 {
        unpaid.push(app.auction_win(listing(100 + n), "10.00").await);
        paid.push(app.paid_order(listing(200 + n), "10.00").await);
        let shipped = app.shipped_order(listing(300 + n), "10.00").await;
        disputed.push(
            app.open_dispute(&shipped, Cast::buyer(), NEVER_ARRIVED)
                .await,
        );
    }
    let quick = [("DEADLINE_INTERVAL", "20ms"), ("PAYMENT_WINDOW", "2s")];
    let _first = app.spawn_binary(&quick).await;
    let _second = app.spawn_binary(&quick).await;
    wait_until("every deadline is enforced", || async move {
        app.count(
            "outbox",
            "event_type IN ('order.cancelled', 'order.ship_overdue', 'dispute.escalated')",
        )
        .await
            >= 24
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.count("outbox", "event_type = 'order.cancelled'").await,
        8
    );
    assert_eq!(
        app.count("outbox", "event_type = 'order.ship_overdue'")
            .await,
        8
    );
    assert_eq!(
        app.count("outbox", "event_type = 'dispute.escalated'")
            .await,
        8
    );
    assert_eq!(app.count("disputes", "status = 'REVIEW'").await, 8);
    for order in &paid {
        assert_eq!(
            app.events_of(&id(order)).await,
            ["order.created", "order.paid", "order.ship_overdue"]
        );
    }
    let ledger = app.ledger().await;
    assert_eq!(ledger["held"], format!("{}.00", 16 * 20), "no money moved");
}
