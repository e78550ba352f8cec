//! Carriers' signed tracking updates over HTTP: each status, the signature's cases, repeats
//! and replays, matching by carrier and tracking number, a returned parcel that stops the
//! clock, and two replicas given the same update at once.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use futures_util::future::join_all;
use order_api::carrier_signature::CarrierSecret;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{id, listing, seed, As, Cast, TestApp, CARRIER_SECRET};

const PATH: &str = "/api/v1/orders/carrier-events/";

async fn spawn(overrides: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(seed(0, "1000.00"), overrides).await
}

/// An update of the parcel every test order ships as (UPS, 1Z-999), now (to the
/// millisecond, so that it reads back as sent).
fn update(event_id: &str, status: &str) -> Value {
    json!({
        "event_id": event_id,
        "carrier": "UPS",
        "tracking_number": "1Z-999",
        "status": status,
        "occurred_at": Utc::now().trunc_subsecs(3),
        "detail": "Addressee not available",
    })
}

/// A shipped order whose shipment is at least a few milliseconds old, so that an update
/// made next is not dated before it.
async fn shipped(app: &TestApp, n: u128, amount: &str) -> Value {
    let order = app.shipped_order(listing(n), amount).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    order
}

fn signature_at(body: &[u8], at: i64) -> String {
    CarrierSecret::new(CARRIER_SECRET).sign(at, body)
}

fn signature(body: &[u8]) -> String {
    signature_at(body, Utc::now().timestamp())
}

/// Posts `body` as sent, with `Carrier-Signature: signature` when given, to `base`.
async fn post_raw(base: &str, body: &[u8], signature: Option<String>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{PATH}"))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("Carrier-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Posts `update`, signed now.
async fn send(app: &TestApp, update: &Value) -> (StatusCode, Value) {
    let answer = app.carrier_update(update).await;
    (answer.status, answer.body)
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

/// The order's history: each event's type and actor type.
async fn history(app: &TestApp, order: &Value) -> Vec<(String, String)> {
    let text = |value: &Value| value.as_str().unwrap().to_owned();
    let entries = app.history_entries(order).await;
    entries
        .iter()
        .map(|entry| (text(&entry["event_type"]), text(&entry["actor"]["type"])))
        .collect()
}

async fn recorded_updates(app: &TestApp) -> i64 {
    app.count("carrier_events", "true").await
}

#[tokio::test]
async fn a_signed_delivery_delivers_the_order_and_shortens_the_buyers_window() {
    let app = spawn(&[]).await;
    let order = shipped(&app, 1, "100.00").await;
    let delivery = update("evt-1", "DELIVERED");
    let (status, body) = send(&app, &delivery).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"], "applied");
    assert_eq!(body["order_ids"], json!([id(&order)]));

    let delivered = app.order_now(&order).await;
    assert_eq!(delivered["status"], "DELIVERED");
    let at = time(&delivery["occurred_at"]);
    assert_eq!(time(&delivered["delivered_at"]), at);
    assert_eq!(
        time(&delivered["auto_complete_at"]),
        at + TimeDelta::days(3),
        "AUTO_COMPLETE_AFTER_DELIVERY, earlier than shipping's 7 days"
    );
    assert_eq!(
        history(&app, &order).await.last().unwrap(),
        &("order.delivered".to_owned(), "carrier".to_owned())
    );
}

#[tokio::test]
async fn a_service_marking_an_order_delivered_shortens_the_window_too() {
    let app = spawn(&[("AUTO_COMPLETE_AFTER_DELIVERY", "1d")]).await;
    let order = shipped(&app, 1, "100.00").await;
    let delivered = app
        .internal("mark-delivered", json!({"order_id": id(&order)}))
        .await;
    delivered.assert_status(StatusCode::OK);
    assert_eq!(
        time(&delivered.body["auto_complete_at"]),
        time(&delivered.body["delivered_at"]) + TimeDelta::days(1)
    );
}

#[tokio::test]
async fn a_failed_attempt_or_an_exception_is_shown_until_the_parcel_moves_again() {
    let app = spawn(&[]).await;
    let order = shipped(&app, 1, "100.00").await;
    let steps = [
        ("FAILED_ATTEMPT", Some("FAILED_ATTEMPT")),
        ("IN_TRANSIT", None),
        ("EXCEPTION", Some("EXCEPTION")),
        ("OUT_FOR_DELIVERY", None),
    ];
    for (n, (status, problem)) in steps.into_iter().enumerate() {
        let sent = update(&format!("evt-{n}"), status);
        let (answer, body) = send(&app, &sent).await;
        assert_eq!(answer, StatusCode::OK, "{status}: {body}");
        let now = app.order_now(&order).await;
        assert_eq!(now["status"], "SHIPPED", "{status}");
        match problem {
            Some(problem) => {
                assert_eq!(now["delivery_problem"]["status"], problem);
                assert_eq!(
                    time(&now["delivery_problem"]["occurred_at"]),
                    time(&sent["occurred_at"])
                );
                assert_eq!(now["delivery_problem"]["detail"], "Addressee not available");
            }
            None => assert_eq!(now["delivery_problem"], Value::Null, "{status}"),
        }
    }
    let problems: Vec<_> = history(&app, &order)
        .await
        .into_iter()
        .filter(|(event, _)| event == "order.delivery_problem")
        .collect();
    assert_eq!(problems.len(), 4, "two problems, each cleared");
    assert!(problems.iter().all(|(_, actor)| actor == "carrier"));
    assert_eq!(
        app.events_of(&id(&order)).await.last().unwrap(),
        "order.delivery_problem"
    );
}

#[tokio::test]
async fn in_transit_without_a_problem_changes_nothing_and_is_still_applied() {
    let app = spawn(&[]).await;
    let order = shipped(&app, 1, "100.00").await;
    let before = history(&app, &order).await.len();
    let (status, body) = send(&app, &update("evt-1", "IN_TRANSIT")).await;
    assert_eq!(
        (status, &body["result"]),
        (StatusCode::OK, &json!("applied"))
    );
    assert_eq!(history(&app, &order).await.len(), before);
}

#[tokio::test]
async fn a_returned_parcel_does_not_complete_when_its_window_passes_until_an_admin_acts() {
    let app = spawn(&[("AUTO_COMPLETE_AFTER", "3s")]).await;
    let returned = shipped(&app, 1, "100.00").await;
    let (status, body) = send(&app, &update("evt-1", "RETURNED_TO_SENDER")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut other = app.paid_order(listing(2), "100.00").await;
    other = app.ship(&other, "1Z-888", "UPS").await.body;
    let _workers = app.start_workers();
    support::wait_up_to(
        "the other order completed by itself",
        Duration::from_secs(20),
        async || app.order_now(&other).await["status"] == "COMPLETED",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stopped = app.order_now(&returned).await;
    assert_eq!(
        stopped["status"], "SHIPPED",
        "past its window, not completed"
    );
    assert_eq!(stopped["auto_complete_at"], Value::Null);
    assert_eq!(stopped["delivery_problem"]["status"], "RETURNED_TO_SENDER");
    assert_eq!(
        app.balance(Cast::seller()).await,
        "105.00",
        "only the other order paid"
    );

    let restart = Utc::now() + TimeDelta::seconds(2);
    let extended = app
        .post(
            &format!("/api/v1/orders/{}/extend/", id(&returned)),
            &As::admin(),
            json!({"auto_complete_at": restart, "reason": "Parcel re-sent and delivered."}),
        )
        .await;
    extended.assert_status(StatusCode::OK);
    support::wait_up_to(
        "the restarted clock completed it",
        Duration::from_secs(20),
        async || app.order_now(&returned).await["status"] == "COMPLETED",
    )
    .await;
}

#[tokio::test]
async fn carrier_and_tracking_number_match_whatever_their_case_and_surrounding_spaces() {
    let app = spawn(&[]).await;
    let order = shipped(&app, 1, "100.00").await;
    let mut delivery = update("evt-1", "DELIVERED");
    delivery["carrier"] = json!(" ups ");
    delivery["tracking_number"] = json!("  1z-999\t");
    let (status, body) = send(&app, &delivery).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.order_now(&order).await["status"], "DELIVERED");
}

#[tokio::test]
async fn a_parcel_shipping_two_orders_delivers_both() {
    let app = spawn(&[]).await;
    let first = shipped(&app, 1, "100.00").await;
    let second = shipped(&app, 2, "50.00").await;
    let (status, body) = send(&app, &update("evt-1", "DELIVERED")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order_ids"].as_array().unwrap().len(), 2);
    for order in [&first, &second] {
        assert_eq!(app.order_now(order).await["status"], "DELIVERED");
    }
}

#[tokio::test]
async fn an_update_for_no_shipped_or_delivered_order_is_accepted_and_recorded_nowhere() {
    let app = spawn(&[]).await;
    let completed = shipped(&app, 1, "100.00").await;
    assert_eq!(app.complete(&completed).await.status, StatusCode::OK);
    let mut unknown = update("evt-1", "DELIVERED");
    unknown["tracking_number"] = json!("NO-SUCH-PARCEL");
    for sent in [unknown, update("evt-2", "RETURNED_TO_SENDER")] {
        let (status, body) = send(&app, &sent).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["result"], "no_order");
        assert_eq!(body["order_ids"], json!([]));
    }
    assert_eq!(recorded_updates(&app).await, 0);
    let order = app.order_now(&completed).await;
    assert_eq!(order["status"], "COMPLETED");
    assert_eq!(order["delivery_problem"], Value::Null);
}

#[tokio::test]
async fn a_repeated_update_is_applied_once_even_after_its_order_moved_on() {
    let app = spawn(&[]).await;
    let order = shipped(&app, 1, "100.00").await;
    let failed = update("evt-1", "FAILED_ATTEMPT");
    assert_eq!(send(&app, &failed).await.1["result"], "applied");
    assert_eq!(
        send(&app, &update("evt-2", "IN_TRANSIT")).await.1["result"],
        "applied"
    );
    let (status, body) = send(&app, &failed).await;
    assert_eq!(
        (status, &body["result"]),
        (StatusCode::OK, &json!("repeat"))
    );
    assert_eq!(body["order_ids"], json!([id(&order)]));
    assert_eq!(
        app.order_now(&order).await["delivery_problem"],
        Value::Null,
        "the repeat did not bring the problem back"
    );
    assert_eq!(app.complete(&order).await.status, StatusCode::OK);
    let (status, body) = send(&app, &failed).await;
    assert_eq!(
        (status, &body["result"]),
        (StatusCode::OK, &json!("repeat"))
    );
}

#[tokio::test]
async fn a_replayed_request_outside_five_minutes_is_refused() {
    let app = spawn(&[]).await;
    let order = shipped(&app, 1, "100.00").await;
    let body = serde_json::to_vec(&update("evt-1", "DELIVERED")).unwrap();
    let now = Utc::now().timestamp();
    // Well outside the five minutes either way, so that a slow run cannot bring one inside.
    for at in [now - 360, now + 360] {
        let (status, answer) = post_raw(&app.url, &body, Some(signature_at(&body, at))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{at}: {answer}");
    }
    assert_eq!(app.order_now(&order).await["status"], "SHIPPED");
    assert_eq!(recorded_updates(&app).await, 0);
}

#[tokio::test]
async fn unsigned_wrongly_signed_or_altered_updates_are_refused_and_change_nothing() {
    let app = spawn(&[]).await;
    let order = shipped(&app, 1, "100.00").await;
    let body = serde_json::to_vec(&update("evt-1", "DELIVERED")).unwrap();
    let now = Utc::now().timestamp();
    let altered = String::from_utf8(body.clone())
        .unwrap()
        .replace("DELIVERED", "RETURNED_TO_SENDER");
    let cases: Vec<(&str, Vec<u8>, Option<String>)> = vec![
        ("unsigned", body.clone(), None),
        (
            "another secret",
            body.clone(),
            Some(CarrierSecret::new("guess").sign(now, &body)),
        ),
        ("malformed", body.clone(), Some("v1=abc".into())),
        ("not hex", body.clone(), Some(format!("t={now},v1=zz"))),
        ("altered body", altered.into_bytes(), Some(signature(&body))),
    ];
    for (case, sent, signature) in cases {
        let (status, answer) = post_raw(&app.url, &sent, signature).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {answer}");
        assert!(answer["detail"].is_string(), "{case}: {answer}");
    }
    assert_eq!(app.order_now(&order).await["status"], "SHIPPED");
    assert_eq!(recorded_updates(&app).await, 0);
}

#[tokio::test]
async fn without_a_secret_the_endpoint_does_not_exist() {
    let app = spawn(&[("CARRIER_WEBHOOK_SECRET", "")]).await;
    let body = serde_json::to_vec(&update("evt-1", "DELIVERED")).unwrap();
    let (status, _) = post_raw(&app.url, &body, Some(signature(&body))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_updates_get_the_documented_errors_and_change_nothing() {
    let app = spawn(&[]).await;
    let order = shipped(&app, 1, "100.00").await;
    let with = |field: &str, value: Value| {
        let mut body = update("evt-1", "DELIVERED");
        body[field] = value;
        serde_json::to_vec(&body).unwrap()
    };
    let without = |field: &str| {
        let mut body = update("evt-1", "DELIVERED");
        body.as_object_mut().unwrap().remove(field);
        serde_json::to_vec(&body).unwrap()
    };
    let future = Utc::now() + TimeDelta::hours(1);
    let cases: Vec<(&str, Vec<u8>, StatusCode, Option<&str>)> = vec![
        (
            "malformed JSON",
            b"{\"event_id\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            "unknown status",
            with("status", json!("LOST")),
            StatusCode::BAD_REQUEST,
            Some("status"),
        ),
        (
            "not a time",
            with("occurred_at", json!("yesterday")),
            StatusCode::BAD_REQUEST,
            Some("occurred_at"),
        ),
        (
            "in the future",
            with("occurred_at", json!(future)),
            StatusCode::BAD_REQUEST,
            Some("occurred_at"),
        ),
        (
            "no event id",
            without("event_id"),
            StatusCode::BAD_REQUEST,
            Some("event_id"),
        ),
        (
            "blank event id",
            with("event_id", json!("")),
            StatusCode::BAD_REQUEST,
            Some("event_id"),
        ),
        (
            "bad tracking number",
            with("tracking_number", json!("1Z 999")),
            StatusCode::BAD_REQUEST,
            Some("tracking_number"),
        ),
        (
            "long detail",
            with("detail", json!("x".repeat(501))),
            StatusCode::BAD_REQUEST,
            Some("detail"),
        ),
        (
            "oversized",
            with("detail", json!("x".repeat(70_000))),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
        ),
    ];
    for (case, body, expected, field) in cases {
        let (status, answer) = post_raw(&app.url, &body, Some(signature(&body))).await;
        assert_eq!(status, expected, "{case}: {answer}");
        if let Some(field) = field {
            assert!(answer[field].is_array(), "{case}: {answer}");
        }
    }
    assert_eq!(app.order_now(&order).await["status"], "SHIPPED");
    assert_eq!(recorded_updates(&app).await, 0);
}

#[tokio::test]
async fn two_replicas_given_the_same_update_at_once_apply_it_once() {
    let app = spawn(&[]).await;
    let replica = app.replica().await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let replica_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(order_api::serve(listener, replica.state.clone()).unwrap());
    let order = shipped(&app, 1, "100.00").await;
    for (n, status) in ["FAILED_ATTEMPT", "IN_TRANSIT", "EXCEPTION", "DELIVERED"]
        .into_iter()
        .enumerate()
    {
        let body = serde_json::to_vec(&update(&format!("evt-{n}"), status)).unwrap();
        let signed = signature(&body);
        let answers = join_all([&app.url, &replica_url].map(|base| {
            let (body, signed) = (body.clone(), signed.clone());
            async move { post_raw(base, &body, Some(signed)).await }
        }))
        .await;
        let mut results: Vec<_> = answers
            .iter()
            .map(|(status, body)| {
                assert_eq!(*status, StatusCode::OK, "{body}");
                body["result"].as_str().unwrap().to_owned()
            })
            .collect();
        results.sort();
        assert_eq!(results, ["applied", "repeat"], "{status}");
    }
    let carried: Vec<_> = history(&app, &order)
        .await
        .into_iter()
        .filter(|(_, actor)| actor == "carrier")
        .map(|(event, _)| event)
        .collect();
    assert_eq!(
        carried,
        [
            "order.delivery_problem",
            "order.delivery_problem",
            "order.delivery_problem",
            "order.delivered"
        ]
    );
}
