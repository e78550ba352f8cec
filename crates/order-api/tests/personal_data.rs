//! An ended order's personal data erased everywhere the service keeps it: marker strings
//! written into an address, a dispute's reason, its evidence, an admin's notes and an
//! action's reason (each request with an Idempotency-Key, so that saved answers hold them
//! too) are found in no row of any table afterwards, while the money record, the history
//! and the replay feed stay as they were.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{id, listing, seed, As, Cast, TestApp};

const MARKERS: [&str; 5] = [
    "MARKER-ADDRESS-7f3a",
    "MARKER-REASON-19bc",
    "MARKER-EVIDENCE-55d1",
    "MARKER-NOTES-0c4d",
    "MARKER-ACTION-a8e2",
];

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
    let order = keyed(
        app,
        Method::POST,
        "/api/v1/orders/internal/create/",
        &As::Service,
        json!({"listing_id": listing(n), "buyer_id": Cast::buyer(), "seller_id": Cast::seller(),
               "amount": "100.00", "shipping_cost": "10.00",
               "shipping_address": {"name": "Alice", "street": MARKERS[0]}}),
        &format!("create-{n}"),
    )
    .await;
    app.pay(&order).await;
    let shipped = app
        .post(
            &format!("/api/v1/orders/{}/ship/", id(&order)),
            &As::User(Cast::seller()),
            json!({"tracking_number": format!("1Z-{n}"), "carrier": "UPS"}),
        )
        .await;
    assert_eq!(shipped.status, StatusCode::OK, "{}", shipped.body);
    order
}

/// Every table's rows, as text, that hold one of the markers: `(table, marker)`.
async fn markers_left(app: &TestApp) -> Vec<(String, &'static str)> {
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
        for marker in MARKERS {
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

/// What must not move: the order's money record and its story's places.
async fn record_of(app: &TestApp, order: &Value) -> (Value, Vec<(Value, Value)>) {
    let now = app.order_now(order).await;
    let record = json!({
        "status": now["status"], "total": now["total"], "amount": now["amount"],
        "fee_amount": now["fee_amount"], "escrow_id": now["escrow_id"],
        "created_at": now["created_at"], "paid_at": now["paid_at"],
        "shipped_at": now["shipped_at"], "completed_at": now["completed_at"],
        "dispute": now["dispute"],
    });
    let history = app
        .get(
            &format!("/api/v1/orders/{}/history/?page_size=100", id(order)),
            &As::Admin(Cast::admin()),
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    let places = history.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| (entry["event_id"].clone(), entry["sequence"].clone()))
        .collect();
    (record, places)
}

#[tokio::test]
async fn an_erased_order_leaves_no_personal_text_in_any_table_and_keeps_its_money_record() {
    let app = TestApp::spawn(seed(2, "1000.00")).await;
    let admin = As::Admin(Cast::admin());

    // A disputed order, settled by an admin in part.
    let disputed = shipped_to_the_marker(&app, 1).await;
    let dispute = keyed(
        &app,
        Method::POST,
        &format!("/api/v1/orders/{}/dispute/", id(&disputed)),
        &As::User(Cast::buyer()),
        json!({"reason": format!("It never came: {}", MARKERS[1]),
               "evidence": [format!("https://img.example.com/{}.jpg", MARKERS[2])]}),
        "dispute-1",
    )
    .await;
    keyed(
        &app,
        Method::PATCH,
        &format!("/api/v1/disputes/{}/", id(&dispute)),
        &admin,
        json!({"status": "RESOLVED", "resolution": "PARTIAL_REFUND", "refund_amount": "30.00",
               "admin_notes": format!("Called the buyer, {}", MARKERS[3])}),
        "resolve-1",
    )
    .await;
    // An order its seller refunded, with a reason.
    let refunded = shipped_to_the_marker(&app, 2).await;
    keyed(
        &app,
        Method::POST,
        &format!("/api/v1/orders/{}/refund/", id(&refunded)),
        &As::User(Cast::seller()),
        json!({"reason": format!("Lost it, sorry {}", MARKERS[4])}),
        "refund-2",
    )
    .await;
    let _workers = app.start_workers();
    let mut before = Vec::new();
    for order in [&disputed, &refunded] {
        before.push(record_of(&app, order).await);
    }
    let feed = "/api/v1/orders/internal/events/?after=0&limit=500";
    let feed_before = app.get(feed, &As::Service).await.body;
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

    let context = &app.application.workers;
    for order in [&disputed, &refunded] {
        let order_id = order_domain::OrderId::from_uuid(id(order).parse().unwrap());
        let outcome =
            order_api::personal_data::erase_order(&context.service, &context.idempotency, order_id)
                .await
                .unwrap();
        assert_eq!(outcome, order_app::ErasureOutcome::Erased);
    }

    assert_eq!(markers_left(&app).await, []);
    for (order, before) in [&disputed, &refunded].into_iter().zip(before) {
        let (record, places) = record_of(&app, order).await;
        assert_eq!(record, before.0, "the money record is kept");
        assert_eq!(
            places[..before.1.len()],
            before.1[..],
            "the history keeps its places"
        );
        assert_eq!(places.len(), before.1.len() + 1, "and gains the erasure");
    }
    let feed_after = app.get(feed, &As::Service).await.body;
    let positions = |feed: &Value| -> Vec<(Value, Value)> {
        feed["results"]
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .map(|e| (e["position"].clone(), e["event_id"].clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (was, is) = (positions(&feed_before), positions(&feed_after));
    assert_eq!(
        is[..was.len()],
        was[..],
        "the feed's positions are unchanged"
    );
    app.ledger().await;
}

#[tokio::test]
async fn an_order_still_open_is_not_erased() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let order = shipped_to_the_marker(&app, 1).await;
    let context = &app.application.workers;
    let order_id = order_domain::OrderId::from_uuid(id(&order).parse().unwrap());
    let outcome =
        order_api::personal_data::erase_order(&context.service, &context.idempotency, order_id)
            .await
            .unwrap();
    assert_eq!(outcome, order_app::ErasureOutcome::NotEnded);
    assert_eq!(
        app.order_now(&order).await["shipping_address"]["street"],
        MARKERS[0]
    );
    assert!(!markers_left(&app).await.is_empty());
}
