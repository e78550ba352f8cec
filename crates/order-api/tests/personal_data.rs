//! An ended order's personal data erased everywhere the service keeps it — once its
//! retention has passed, or at once when a party asks: marker strings written into an
//! address, a dispute's reason, its evidence, an admin's notes and an action's reason (each
//! request with an Idempotency-Key, so that saved answers hold them too) are found in no row
//! of any table afterwards, while the money record, the history, the replay feed and the
//! Wallet's books stay as they were.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{dispute_path, id, listing, results, seed, wait_until, As, Cast, TestApp};

const MARKERS: [&str; 5] = [
    "MARKER-ADDRESS-7f3a",
    "MARKER-REASON-19bc",
    "MARKER-EVIDENCE-55d1",
    "MARKER-NOTES-0c4d",
    "MARKER-ACTION-a8e2",
];

/// The address of an order still open when its buyer asks to be erased.
const OPEN_MARKER: &str = "MARKER-OPEN-ADDRESS-3e9d";

async fn keyed(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &As,
    body: Value,
    key: &str,
) -> Value {
    let answer = app
        .call_with(method, path, who, Some(body), &[("Idempotency-Key", key)])
        .await;
    assert!(
        answer.status.is_success(),
        "{path}: {} {}",
        answer.status,
        answer.body
    );
    answer.body
}

/// An auction win shipped to the marked address, paid and shipped.
async fn shipped_to_the_marker(app: &TestApp, n: u128) -> Value {
    shipped_to(app, n, MARKERS[0]).await
}

/// An auction win to `street`, paid and shipped.
async fn shipped_to(app: &TestApp, n: u128, street: &str) -> Value {
    let order = keyed(
        app,
        Method::POST,
        "/api/v1/orders/internal/create/",
        &As::Service,
        json!({"listing_id": listing(n), "buyer_id": Cast::buyer(), "seller_id": Cast::seller(),
               "amount": "100.00", "shipping_cost": "10.00",
               "shipping_address": {"name": "Alice", "street": street}}),
        &format!("create-{n}"),
    )
    .await;
    app.pay(&order).await;
    let shipped = app
        .post(
            &format!("/api/v1/orders/{}/ship/", id(&order)),
            &As::seller(),
            json!({"tracking_number": format!("1Z-{n}"), "carrier": "UPS"}),
        )
        .await;
    shipped.assert_status(StatusCode::OK);
    order
}

/// Every table's rows, as text, that hold one of the markers: `(table, marker)`.
async fn markers_left(app: &TestApp) -> Vec<(String, &'static str)> {
    texts_left(app, &MARKERS).await
}

/// Every table's rows, as text, that hold one of `markers`: `(table, marker)`.
async fn texts_left(app: &TestApp, markers: &[&'static str]) -> Vec<(String, &'static str)> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(tables.len() > 5, "every table is searched");
    let mut found = Vec::new();
    for table in tables {
        for &marker in markers {
            let count: Count = diesel::sql_query(format!(
                "SELECT count(*) AS n FROM \"{}\" AS t WHERE t::text LIKE '%{marker}%'",
                table.name
            ))
            .get_result(&mut conn)
            .await
            .unwrap();
            if count.n > 0 {
                found.push((table.name.clone(), marker));
            }
        }
    }
    found
}

/// What must not move: the order's money record and its story's places, read two entries a
/// page so that a page boundary the erasure disturbed would show as a gap or a repeat.
async fn record_of(app: &TestApp, order: &Value) -> (Value, Vec<(Value, Value)>) {
    let now = app.order_now(order).await;
    let record = json!({
        "status": now["status"], "total": now["total"], "amount": now["amount"],
        "fee_amount": now["fee_amount"], "escrow_id": now["escrow_id"],
        "created_at": now["created_at"], "paid_at": now["paid_at"],
        "shipped_at": now["shipped_at"], "completed_at": now["completed_at"],
        "dispute": now["dispute"],
    });
    let mut places: Vec<(Value, Value)> = Vec::new();
    for page in 1.. {
        let history = app
            .get(
                &format!(
                    "/api/v1/orders/{}/history/?page_size=2&page={page}",
                    id(order)
                ),
                &As::admin(),
            )
            .await;
        history.assert_status(StatusCode::OK);
        places.extend(
            results(&history.body)
                .iter()
                .map(|entry| (entry["event_id"].clone(), entry["sequence"].clone())),
        );
        if history.body["next"].is_null() {
            assert_eq!(
                history.body["count"],
                json!(places.len()),
                "every entry once"
            );
            break;
        }
    }
    let sequences: Vec<i64> = places.iter().map(|(_, s)| s.as_i64().unwrap()).collect();
    assert_eq!(
        sequences,
        (1..=sequences.len() as i64).collect::<Vec<_>>(),
        "the history pages without a gap"
    );
    (record, places)
}

/// Two ended orders holding every marker: one disputed and settled in part by an admin
/// (with notes), one refunded by its seller with a reason.
async fn ended_with_every_marker(app: &TestApp) -> [Value; 2] {
    let disputed = shipped_to_the_marker(app, 1).await;
    let dispute = keyed(
        app,
        Method::POST,
        &format!("/api/v1/orders/{}/dispute/", id(&disputed)),
        &As::buyer(),
        json!({"reason": format!("It never came: {}", MARKERS[1]),
               "evidence": [format!("https://img.example.com/{}.jpg", MARKERS[2])]}),
        "dispute-1",
    )
    .await;
    keyed(
        app,
        Method::PATCH,
        &dispute_path(&dispute),
        &As::admin(),
        json!({"status": "RESOLVED", "resolution": "PARTIAL_REFUND", "refund_amount": "30.00",
               "admin_notes": format!("Called the buyer, {}", MARKERS[3])}),
        "resolve-1",
    )
    .await;
    let refunded = shipped_to_the_marker(app, 2).await;
    keyed(
        app,
        Method::POST,
        &format!("/api/v1/orders/{}/refund/", id(&refunded)),
        &As::seller(),
        json!({"reason": format!("Lost it, sorry {}", MARKERS[4])}),
        "refund-2",
    )
    .await;
    [disputed, refunded]
}

/// Every event's feed position and id, in feed order, once every committed event has its
/// position (as the relay's sequencer gives them).
/// The replay feed's (position, event id) pairs, read three events a page from the start.
async fn feed_positions(app: &TestApp) -> Vec<(Value, Value)> {
    app.application
        .workers
        .service
        .position_feed()
        .await
        .unwrap();
    let mut events: Vec<(Value, Value)> = Vec::new();
    let mut after = json!(0);
    loop {
        let page = app
            .get(
                &format!("/api/v1/orders/internal/events/?after={after}&limit=3"),
                &As::Service,
            )
            .await
            .body;
        let results = page["results"].as_array().unwrap();
        if results.is_empty() {
            break;
        }
        events.extend(
            results
                .iter()
                .map(|e| (e["position"].clone(), e["event_id"].clone())),
        );
        after = page["next_after"].clone();
    }
    let positions: Vec<i64> = events.iter().map(|(p, _)| p.as_i64().unwrap()).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "the feed pages each event once, in order: {positions:?}"
    );
    events
}

/// What an erasure must keep of `orders`, taken before it: their money records, their
/// histories' places and the feed's positions.
struct Kept {
    records: Vec<(Value, Vec<(Value, Value)>)>,
    feed: Vec<(Value, Value)>,
}

impl Kept {
    async fn before(app: &TestApp, orders: &[Value]) -> Kept {
        let mut records = Vec::new();
        for order in orders {
            records.push(record_of(app, order).await);
        }
        Kept {
            records,
            feed: feed_positions(app).await,
        }
    }

    /// Asserts each order kept its record and its history's places, gaining one entry
    /// (the erasure), and that the feed kept every position.
    async fn assert_kept(&self, app: &TestApp, orders: &[Value]) {
        for (order, before) in orders.iter().zip(&self.records) {
            let (record, places) = record_of(app, order).await;
            assert_eq!(record, before.0, "the money record is kept");
            assert_eq!(
                places[..before.1.len()],
                before.1[..],
                "the history keeps its places"
            );
            assert_eq!(places.len(), before.1.len() + 1, "and gains the erasure");
        }
        let feed = feed_positions(app).await;
        assert_eq!(
            feed[..self.feed.len()],
            self.feed[..],
            "the feed's positions are unchanged"
        );
        assert_eq!(feed.len(), self.feed.len() + orders.len());
    }
}

/// `order-api reconcile` finds the Wallet's books agreeing with every order.
async fn books_agree(app: &TestApp) {
    let output = app.run_binary_output(&["reconcile"]).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    app.ledger().await;
}

#[tokio::test]
async fn past_its_retention_an_ended_order_leaves_no_personal_text_in_any_table() {
    let app = TestApp::spawn_with(
        seed(2, "1000.00"),
        &[
            ("PERSONAL_DATA_RETENTION", "1s"),
            ("ERASURE_INTERVAL", "100ms"),
        ],
    )
    .await;
    let orders = ended_with_every_marker(&app).await;
    let kept = Kept::before(&app, &orders).await;
    let written: std::collections::HashSet<_> = markers_left(&app)
        .await
        .into_iter()
        .map(|(_, marker)| marker)
        .collect();
    assert_eq!(
        written.len(),
        MARKERS.len(),
        "every marker is written before the erasure"
    );

    let _workers = app.start_workers();
    wait_until("the retention passes and the worker erases", || async {
        app.count("orders", "personal_data_erased_at IS NOT NULL")
            .await
            == 2
    })
    .await;
    // The saved answers are rewritten right after the orders' erasure commits, in the same
    // round: wait for the round to end, not only for the orders.
    wait_until("the worker rewrites the saved answers too", || async {
        markers_left(&app).await.is_empty()
    })
    .await;

    kept.assert_kept(&app, &orders).await;
    for order in &orders {
        assert_eq!(
            app.events_of(&id(order))
                .await
                .into_iter()
                .filter(|event| event == "order.personal_data_erased")
                .count(),
            1
        );
    }
    books_agree(&app).await;
}

#[tokio::test]
async fn erasing_an_ended_order_on_demand_leaves_no_personal_text() {
    let app = TestApp::spawn(seed(2, "1000.00")).await;
    let orders = ended_with_every_marker(&app).await;
    let kept = Kept::before(&app, &orders).await;
    let context = &app.application.workers;
    for order in &orders {
        let order_id = order_domain::OrderId::from_uuid(id(order).parse().unwrap());
        let outcome = context.erasure().order(order_id).await.unwrap();
        assert_eq!(outcome, order_app::ErasureOutcome::Erased);
    }
    assert_eq!(markers_left(&app).await, []);
    kept.assert_kept(&app, &orders).await;
}

#[tokio::test]
async fn an_order_still_open_is_not_erased() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let order = shipped_to_the_marker(&app, 1).await;
    let context = &app.application.workers;
    let order_id = order_domain::OrderId::from_uuid(id(&order).parse().unwrap());
    let outcome = context.erasure().order(order_id).await.unwrap();
    assert_eq!(outcome, order_app::ErasureOutcome::NotEnded);
    assert_eq!(
        app.order_now(&order).await["shipping_address"]["street"],
        MARKERS[0]
    );
    assert!(!markers_left(&app).await.is_empty());
}

/// `POST /api/v1/orders/internal/erase-user/` for the buyer, sent to `base`.
async fn erase_buyer(app: &TestApp, base: &str) -> reqwest::StatusCode {
    let request = app
        .http
        .post(format!("{base}/api/v1/orders/internal/erase-user/"));
    let body = json!({"user_id": Cast::buyer()});
    let answer = app.send(request, &As::Service, Some(body), &[]).await;
    assert_eq!(answer.body, json!({"erased": 2, "pending": 1}));
    answer.status
}

#[tokio::test]
async fn a_users_ended_orders_are_erased_at_once_and_an_open_one_once_it_ends_after_a_restart() {
    let app = TestApp::spawn(seed(3, "1000.00")).await;
    let ended = ended_with_every_marker(&app).await;
    let open = shipped_to(&app, 3, OPEN_MARKER).await;
    let kept = Kept::before(&app, &ended).await;

    let mut first = app.spawn_binary(&[("ERASURE_INTERVAL", "100ms")]).await;
    assert_eq!(erase_buyer(&app, &first.url).await, StatusCode::ACCEPTED);
    assert_eq!(markers_left(&app).await, [], "the ended orders at once");
    kept.assert_kept(&app, &ended).await;
    assert_eq!(
        app.order_now(&open).await["shipping_address"]["street"],
        OPEN_MARKER,
        "the open order keeps its address to be delivered"
    );
    assert_eq!(
        erase_buyer(&app, &first.url).await,
        StatusCode::ACCEPTED,
        "asking again answers the same"
    );
    assert_eq!(
        app.count("outbox", "event_type = 'order.personal_data_erased'")
            .await,
        2,
        "and erases nothing twice"
    );

    // The service restarts: nothing of the request is left in any process's memory.
    first.kill();
    let _second = app.spawn_binary(&[("ERASURE_INTERVAL", "100ms")]).await;
    keyed(
        &app,
        Method::POST,
        &format!("/api/v1/orders/{}/complete/", id(&open)),
        &As::buyer(),
        json!({}),
        "complete-3",
    )
    .await;
    wait_until("the open order is erased once it ends", || async {
        texts_left(&app, &[OPEN_MARKER]).await.is_empty()
    })
    .await;
    assert_eq!(app.order_now(&open).await["status"], "COMPLETED");
    assert_eq!(markers_left(&app).await, []);
    books_agree(&app).await;
}

#[tokio::test]
async fn erase_user_takes_a_user_id_from_a_service_only() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let order = shipped_to_the_marker(&app, 1).await;
    let path = "/api/v1/orders/internal/erase-user/";
    let bad = app
        .post(path, &As::Service, json!({"user_id": "not-a-uuid"}))
        .await;
    bad.assert_status(StatusCode::BAD_REQUEST);
    assert!(bad.body["user_id"].is_array(), "{}", bad.body);
    let missing = app.post(path, &As::Service, json!({})).await;
    missing.assert_status(StatusCode::BAD_REQUEST);
    assert!(missing.body["user_id"].is_array(), "{}", missing.body);
    let user = app
        .post(path, &As::buyer(), json!({"user_id": Cast::buyer()}))
        .await;
    user.assert_status(StatusCode::FORBIDDEN);
    let nobody = app
        .post(path, &As::Nobody, json!({"user_id": Cast::buyer()}))
        .await;
    nobody.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("orders", "erasure_requested_at IS NOT NULL")
            .await,
        0,
        "a refused request marks nothing"
    );
    assert_eq!(
        app.order_now(&order).await["shipping_address"]["street"],
        MARKERS[0]
    );
    let stranger = app
        .post(path, &As::Service, json!({"user_id": Cast::stranger()}))
        .await;
    stranger.assert_status(StatusCode::ACCEPTED);
    assert_eq!(stranger.body, json!({"erased": 0, "pending": 0}));
}
