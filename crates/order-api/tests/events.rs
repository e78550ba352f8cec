//! Events through the outbox to a real (emulated) EventBridge bus, the relay surviving an
//! outage, several replicas sharing the work, and orders completing by themselves.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use order_eventbridge::emulator::{Emulator, Queue};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::tcp_proxy::TcpProxy;
use support::{dispute_path, id, listing, seed, As, Cast, TestApp};

const BUS: &str = "orders";

/// The app publishing to the emulator's bus.
async fn app_on_bus(emulator: &Emulator, extra: &[(&str, &str)]) -> TestApp {
    app_on_bus_at(&emulator.url(), extra).await
}

/// The app publishing to the bus at `endpoint`.
async fn app_on_bus_at(endpoint: &str, extra: &[(&str, &str)]) -> TestApp {
    // The AWS SDK reads credentials from the environment; the emulator accepts any.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let mut overrides = vec![("EVENT_BUS_NAME", BUS), ("AWS_ENDPOINT_URL", endpoint)];
    overrides.extend_from_slice(extra);
    TestApp::spawn_with(seed(3, "10000.00"), &overrides).await
}

async fn event_ids_in_outbox(app: &TestApp) -> HashSet<String> {
    app.texts("SELECT event_id::text AS text FROM outbox")
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// A whole story: an auction sale completed, a Buy It Now, a dispute refunded. Returns
/// the orders' ids with the event types each must have raised, in order.
async fn story(app: &TestApp) -> Vec<(String, Vec<&'static str>)> {
    let sold = app.shipped_order(listing(10), "100.00").await;
    app.complete(&sold).await;
    let bought = app.purchase(listing(1)).await;
    bought.assert_status(StatusCode::CREATED);
    let disputed = app.paid_order(listing(11), "50.00").await;
    let opened = app
        .open_dispute(&disputed, Cast::buyer(), "The parcel was empty.")
        .await;
    let decided = app.resolve(&dispute_path(&opened), "REFUND_BUYER").await;
    decided.assert_status(StatusCode::OK);
    vec![
        (
            id(&sold),
            vec![
                "order.created",
                "order.paid",
                "order.shipped",
                "order.completed",
            ],
        ),
        (id(&bought.body), vec!["order.created", "order.paid"]),
        (
            id(&disputed),
            vec![
                "order.created",
                "order.paid",
                "order.disputed",
                "order.refunded",
                "dispute.resolved",
            ],
        ),
    ]
}

fn by_order(received: &[Value]) -> HashMap<String, Vec<String>> {
    let mut orders: HashMap<String, Vec<String>> = HashMap::new();
    for envelope in received {
        let detail = &envelope["detail"];
        orders
            .entry(id(&detail["order"]))
            .or_default()
            .push(detail["event_type"].as_str().unwrap().to_owned());
    }
    orders
}

async fn receive_all(emulator: &Emulator, queue: &Queue, count: usize) -> Vec<Value> {
    let received = emulator
        .receive(queue, count, Duration::from_secs(30))
        .await;
    assert_eq!(received.len(), count, "every event arrives");
    // Nothing more trickles in: each event once.
    assert!(emulator
        .receive(queue, 1, Duration::from_millis(500))
        .await
        .is_empty());
    received
}

#[tokio::test]
async fn a_lifecycles_events_arrive_on_the_bus_in_order_each_once() {
    let emulator = Emulator::start().await;
    let queue = emulator.route(BUS, "marketplace.orders").await;
    let app = app_on_bus(&emulator, &[]).await;
    let _workers = app.start_workers();
    let expected = story(&app).await;
    let received = receive_all(&emulator, &queue, 11).await;

    for envelope in &received {
        assert_eq!(envelope["source"], "marketplace.orders");
        let detail = &envelope["detail"];
        assert_eq!(envelope["detail-type"], detail["event_type"]);
        assert_eq!(detail["version"], 1);
        assert!(detail["occurred_at"].as_str().unwrap().ends_with('Z'));
        assert!(
            detail["order"]["total"].is_string(),
            "the order representation: {detail}"
        );
        let about_dispute = ["order.disputed", "order.refunded", "dispute.resolved"]
            .contains(&detail["event_type"].as_str().unwrap());
        assert_eq!(detail.get("dispute").is_some(), about_dispute, "{detail}");
    }
    let arrived = by_order(&received);
    for (order, events) in expected {
        assert_eq!(arrived[&order], events, "order {order}'s events, in order");
    }
    let ids: HashSet<String> = received
        .iter()
        .map(|e| e["detail"]["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        event_ids_in_outbox(&app).await,
        "each event once, and every one of them"
    );
    // Each order's events numbered 1, 2, 3… in the order they arrive; money
    // events say where the escrow went, to the cent of the total.
    let mut sequences: HashMap<String, Vec<u64>> = HashMap::new();
    for envelope in &received {
        let detail = &envelope["detail"];
        sequences
            .entry(id(&detail["order"]))
            .or_default()
            .push(detail["sequence"].as_u64().unwrap());
        let money =
            ["order.completed", "order.refunded"].contains(&detail["event_type"].as_str().unwrap());
        assert_eq!(detail.get("settlement").is_some(), money, "{detail}");
        if money {
            let settlement = &detail["settlement"];
            let part = |name: &str| settlement[name].as_str().unwrap().parse::<f64>().unwrap();
            let total: f64 = detail["order"]["total"].as_str().unwrap().parse().unwrap();
            let sum = part("buyer_refund") + part("seller_amount") + part("fee_amount");
            assert!((sum - total).abs() < 0.001, "{settlement} sums to {total}");
        }
    }
    for (order, numbers) in sequences {
        assert_eq!(
            numbers,
            (1..=numbers.len() as u64).collect::<Vec<_>>(),
            "order {order}"
        );
    }
}

async fn metric(app: &TestApp, name: &str) -> f64 {
    app.metric(name)
        .await
        .unwrap_or_else(|| panic!("{name} is not on /metrics"))
}

#[tokio::test]
async fn a_bus_outage_far_longer_than_the_retry_budget_parks_nothing_and_loses_nothing() {
    let emulator = Emulator::start().await;
    let queue = emulator.route(BUS, "marketplace.orders").await;
    // The service reaches the bus through a proxy, so the outage keeps the bus's rules.
    let port: u16 = emulator.url().rsplit(':').next().unwrap().parse().unwrap();
    let proxy = TcpProxy::start(port).await;
    let endpoint = format!("http://127.0.0.1:{}", proxy.port);
    // Two refusals would park an event; 100 ms backoff: the old budget was 0.1 s.
    let budget = [
        ("OUTBOX_MAX_ATTEMPTS", "2"),
        ("OUTBOX_MAX_PROBE_INTERVAL", "400ms"),
    ];
    let app = app_on_bus_at(&endpoint, &budget).await;
    let _workers = app.start_workers();
    proxy.cut();
    let expected = story(&app).await;
    support::wait_up_to("failed publications", Duration::from_secs(30), async || {
        metric(&app, "order_service_outbox_publish_failures_total").await > 0.0
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let failures = metric(&app, "order_service_outbox_publish_failures_total").await;
    assert!(
        // Polled every 50 ms, a relay calling each time would fail 60+ times; probing
        // with a doubling wait capped at 400 ms fails about ten times.
        failures <= 20.0,
        "the relay probes now and then, it does not hammer: {failures} failures in 3 s"
    );
    assert_eq!(metric(&app, "order_service_outbox_parked_rows").await, 0.0);
    assert_eq!(
        metric(&app, "order_service_outbox_bus_available").await,
        0.0
    );
    assert!(metric(&app, "order_service_outbox_lag_seconds").await >= 3.0);
    assert_eq!(
        app.get("/readyz", &As::Nobody).await.status,
        StatusCode::OK,
        "writes go on into the outbox"
    );
    let more = app.auction_win(listing(30), "5.00").await;

    proxy.restore();
    let received = receive_all(&emulator, &queue, 12).await;
    let arrived = by_order(&received);
    for (order, events) in expected {
        assert_eq!(arrived[&order], events, "order {order}'s events, in order");
    }
    assert_eq!(arrived[&id(&more)], ["order.created"]);
    let ids: HashSet<String> = received
        .iter()
        .map(|e| e["detail"]["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, event_ids_in_outbox(&app).await, "each event once");
    assert_eq!(metric(&app, "order_service_outbox_pending_rows").await, 0.0);
    assert_eq!(metric(&app, "order_service_outbox_parked_rows").await, 0.0);
    assert_eq!(
        metric(&app, "order_service_outbox_bus_available").await,
        1.0
    );
}

/// Writes an event for `order` that the bus refuses (its detail is not JSON), as a bug in
/// a payload would; its id.
async fn poison(app: &TestApp, order: &Value) -> String {
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let event_id = uuid::Uuid::now_v7().to_string();
    let mut conn = diesel_async::AsyncPgConnection::establish(app.db.url())
        .await
        .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO outbox (event_id, event_type, order_id, occurred_at, next_attempt_at, payload) \
         VALUES ('{event_id}', 'order.created', '{}', now(), now(), 'not json')",
        id(order)
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    event_id
}

#[tokio::test]
async fn a_poison_event_is_parked_holds_back_only_its_order_and_goes_out_in_order_when_requeued() {
    let emulator = Emulator::start().await;
    let queue = emulator.route(BUS, "marketplace.orders").await;
    let app = app_on_bus(&emulator, &[("OUTBOX_MAX_ATTEMPTS", "2")]).await;
    let sick = app.auction_win(listing(20), "5.00").await;
    let poisoned = poison(&app, &sick).await;
    app.internal(
        "cancel",
        json!({"order_id": sick["id"], "reason": "The winner withdrew."}),
    )
    .await;
    let healthy = app.auction_win(listing(21), "5.00").await;
    let _workers = app.start_workers();

    let first = emulator.receive(&queue, 2, Duration::from_secs(30)).await;
    support::wait_up_to("the poison parked", Duration::from_secs(20), async || {
        metric(&app, "order_service_outbox_parked_rows").await == 1.0
    })
    .await;
    assert_eq!(
        first
            .iter()
            .map(|e| (
                id(&e["detail"]["order"]),
                e["detail-type"].as_str().unwrap()
            ))
            .collect::<HashSet<_>>(),
        HashSet::from([
            (id(&sick), "order.created"),
            (id(&healthy), "order.created")
        ]),
        "the healthy order is not held back"
    );
    assert_eq!(
        metric(&app, "order_service_outbox_held_back_rows").await,
        1.0
    );
    assert!(
        emulator
            .receive(&queue, 1, Duration::from_millis(500))
            .await
            .is_empty(),
        "the sick order's cancellation waits behind the poison"
    );

    let parked = app.run_binary(&["outbox", "parked"]);
    assert!(
        parked.contains(&poisoned) && parked.contains("MalformedDetail"),
        "{parked}"
    );
    assert!(parked.contains("1 later events waiting"), "{parked}");
    let status = app.run_binary(&["outbox", "status"]);
    assert!(
        status.contains("parked      1") && status.contains("available"),
        "{status}"
    );

    // The cause fixed (here: the payload), an operator requeues the order's events.
    fix_payload(&app, &poisoned).await;
    let requeued = app.run_binary(&["outbox", "requeue", "--order", &id(&sick)]);
    assert!(
        requeued.starts_with("1 parked events requeued"),
        "{requeued}"
    );
    let rest = receive_all(&emulator, &queue, 2).await;
    assert_eq!(
        rest.iter()
            .map(|e| e["detail-type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["order.created", "order.cancelled"],
        "the requeued event first, then the one it held back"
    );
    assert_eq!(metric(&app, "order_service_outbox_parked_rows").await, 0.0);
}

async fn fix_payload(app: &TestApp, event_id: &str) {
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let mut conn = diesel_async::AsyncPgConnection::establish(app.db.url())
        .await
        .unwrap();
    diesel::sql_query(format!(
        "UPDATE outbox SET payload = '{{\"repaired\": true}}' WHERE event_id = '{event_id}'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
}

#[tokio::test]
async fn several_replicas_share_the_relay_and_the_auto_completion_without_doing_anything_twice() {
    let emulator = Emulator::start().await;
    let queue = emulator.route(BUS, "marketplace.orders").await;
    let app = app_on_bus(&emulator, &[("AUTO_COMPLETE_AFTER", "1s")]).await;
    let (second, third) = (app.replica().await, app.replica().await);
    let workers = [
        app.start_workers(),
        second.spawn_workers(),
        third.spawn_workers(),
    ];

    const ORDERS: u128 = 12;
    let mut orders = Vec::new();
    for n in 1..=ORDERS {
        orders.push(id(&app.shipped_order(listing(100 + n), "100.00").await));
    }
    support::wait_up_to(
        "every order completed",
        Duration::from_secs(30),
        async || app.count("orders", "status = 'COMPLETED'").await == ORDERS as i64,
    )
    .await;
    for order in &orders {
        assert_eq!(
            app.events_of(order).await,
            [
                "order.created",
                "order.paid",
                "order.shipped",
                "order.completed"
            ],
            "completed once"
        );
    }
    assert_eq!(
        app.balance(Cast::seller()).await,
        format!("{:.2}", 105.0 * ORDERS as f64),
        "released once each"
    );
    assert_eq!(app.ledger().await["held"], "0.00");

    let received = receive_all(&emulator, &queue, 4 * ORDERS as usize).await;
    let ids: HashSet<String> = received
        .iter()
        .map(|e| e["detail"]["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), received.len(), "no event published twice");
    assert_eq!(ids, event_ids_in_outbox(&app).await);
    for worker in workers {
        worker.stop(Duration::from_secs(5)).await;
    }
}

#[tokio::test]
async fn shipped_orders_complete_by_themselves_unless_disputed_or_not_yet_due() {
    let app = TestApp::spawn_with(seed(0, "10000.00"), &[("AUTO_COMPLETE_AFTER", "3s")]).await;
    let _workers = app.start_workers();
    let due = app.shipped_order(listing(1), "10.00").await;
    let disputed = app.shipped_order(listing(2), "10.00").await;
    app.open_dispute(&disputed, Cast::buyer(), "Wrong size delivered.")
        .await;
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let later = app.shipped_order(listing(3), "10.00").await;
    let status = |order: Value| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/orders/{}/", id(&order)), &As::buyer())
                .await
                .body["status"]
                .clone()
        }
    };
    support::wait_up_to(
        "the due order to complete",
        Duration::from_secs(10),
        async || status(due.clone()).await == "COMPLETED",
    )
    .await;
    assert_eq!(status(disputed).await, "DISPUTED");
    assert_eq!(
        status(later.clone()).await,
        "SHIPPED",
        "shipped after the cut-off: not yet"
    );
    assert_eq!(
        app.balance(Cast::seller()).await,
        "19.50",
        "released as the buyer's confirmation would: 20.00 total − 0.50 fee"
    );
    support::wait_up_to(
        "the later order in its turn",
        Duration::from_secs(10),
        async || status(later.clone()).await == "COMPLETED",
    )
    .await;
}

/// Every kind of event the service publishes, captured from the bus, reads back into the
/// consumers' types field for field (`order-events`).
#[tokio::test]
async fn every_kind_of_published_event_reads_back_into_the_consumers_types() {
    use order_domain::order::ProblemStatus;
    use order_events::{EventDocument, EventKind};
    let emulator = Emulator::start().await;
    let queue = emulator.route(BUS, "marketplace.orders").await;
    let app = app_on_bus(
        &emulator,
        &[
            ("SHIP_WITHIN", "1s"),
            ("DISPUTE_RESPONSE_WINDOW", "1s"),
            ("DEADLINE_INTERVAL", "100ms"),
        ],
    )
    .await;
    let _workers = app.start_workers();
    let admin = As::admin();

    let delivered = app.shipped_order(listing(40), "100.00").await;
    app.internal("mark-delivered", json!({"order_id": delivered["id"]}))
        .await;
    app.complete(&delivered).await;
    let returned = app.paid_order(listing(47), "100.00").await;
    app.ship(&returned, "RET-1", "DHL").await;
    let answer = app
        .carrier_update(&json!({
            "event_id": "evt-returned",
            "carrier": "dhl",
            "tracking_number": "ret-1",
            "status": "RETURNED_TO_SENDER",
            "occurred_at": chrono::Utc::now(),
        }))
        .await;
    assert_eq!(answer.status, reqwest::StatusCode::OK, "{}", answer.body);
    let unpaid = app.auction_win(listing(41), "5.00").await;
    app.internal(
        "cancel",
        json!({"order_id": unpaid["id"], "reason": "The winner withdrew."}),
    )
    .await;
    let forgotten = app.auction_win(listing(48), "5.00").await;
    app.internal(
        "cancel",
        json!({"order_id": forgotten["id"], "reason": "Alice Marker withdrew."}),
    )
    .await;
    let forgotten_id = order_domain::OrderId::from_uuid(id(&forgotten).parse().unwrap());
    assert_eq!(
        app.application
            .workers
            .service
            .erase_personal_data(forgotten_id)
            .await
            .unwrap(),
        order_app::ErasureOutcome::Erased
    );
    let refunded = app.shipped_order(listing(42), "100.00").await;
    let dispute = app
        .open_dispute(&refunded, Cast::buyer(), "It arrived broken.")
        .await;
    let path = dispute_path(&dispute);
    app.add_evidence(&dispute, Cast::seller(), "https://img.example.com/box.jpg")
        .await;
    app.patch(&path, &admin, json!({"admin_notes": "Looking."}))
        .await;
    app.resolve(&path, "REFUND_BUYER").await;
    app.paid_order(listing(43), "100.00").await; // never shipped: order.ship_overdue
    let ignored = app.shipped_order(listing(44), "100.00").await;
    app.open_dispute(&ignored, Cast::buyer(), "Nobody answers me.")
        .await; // never answered: dispute.escalated
    let extended = app.paid_order(listing(45), "100.00").await;
    let to = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    let answer = app
        .post(
            &format!("/api/v1/orders/{}/extend/", id(&extended)),
            &admin,
            json!({"ship_by": to, "reason": "Carrier strike."}),
        )
        .await;
    assert_eq!(answer.status, reqwest::StatusCode::OK, "{}", answer.body);
    let offered = app.shipped_order(listing(46), "100.00").await;
    let argued = app
        .open_dispute(&offered, Cast::buyer(), "Not as described.")
        .await;
    let offers = format!("/api/v1/disputes/{}/offers/", id(&argued));
    let made = app
        .post(&offers, &As::seller(), json!({"refund_amount": "15.00"}))
        .await;
    app.post(
        &format!("{offers}{}/decline/", id(&made.body)),
        &As::buyer(),
        json!({}),
    )
    .await;

    let all_kinds: HashSet<&str> = order_domain::EventType::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    let started = Instant::now();
    while seen.len() < all_kinds.len() {
        assert!(started.elapsed() < Duration::from_secs(60), "only {seen:?}");
        for envelope in emulator.receive(&queue, 10, Duration::from_secs(2)).await {
            let detail = &envelope["detail"];
            let document: EventDocument =
                serde_json::from_value(detail.clone()).unwrap_or_else(|e| panic!("{e}: {detail}"));
            assert_eq!(
                &serde_json::to_value(&document).unwrap(),
                detail,
                "field for field"
            );
            let EventKind::Known(kind) = &document.event_type else {
                panic!("the service publishes only the types it knows: {detail}");
            };
            if kind.as_str() == "order.completed" && document.dispute.is_none() {
                let recomputed = order_domain::Settlement::release(
                    document.order.total,
                    document.order.fee_amount,
                );
                assert_eq!(document.settlement, Some(recomputed), "the consumer agrees");
            }
            if kind.as_str().starts_with("dispute.offer_") {
                let offers = &document
                    .dispute
                    .as_ref()
                    .expect("an offer's dispute")
                    .offers;
                assert_eq!(offers.len(), 1, "{detail}");
                assert_eq!(offers[0].refund_amount.to_string(), "15.00");
            }
            if kind.as_str() == "order.deadline_extended" {
                let extension = document.extension.expect("the deadline moved");
                assert_eq!(Some(extension.to), document.order.ship_by);
                assert_eq!(document.reason.as_deref(), Some("Carrier strike."));
            }
            if kind.as_str() == "order.delivery_problem" {
                let problem = document
                    .order
                    .delivery_problem
                    .clone()
                    .expect("the problem");
                assert_eq!(problem.status, ProblemStatus::ReturnedToSender);
                assert_eq!(document.order.auto_complete_at, None, "the clock stopped");
            }
            if kind.as_str() == "order.personal_data_erased" {
                let order = &document.order;
                assert!(order.shipping_address.is_empty(), "{detail}");
                assert_eq!(document.reason, None, "it carries no personal data");
                assert!(order.personal_data_erased_at.is_some());
            }
            if kind.as_str() == "order.refunded" {
                let recomputed = order_domain::Settlement::full_refund(document.order.total);
                assert_eq!(document.settlement, Some(recomputed), "the consumer agrees");
            }
            seen.insert(kind.as_str().to_owned());
        }
    }
    assert_eq!(
        seen.iter().map(String::as_str).collect::<HashSet<_>>(),
        all_kinds
    );
}
