//! The database round trips each request costs, counted on the wire by a relay between
//! the service and PostgreSQL: a detail read or a list page is one; every transition is at
//! most four per transaction (BEGIN, the lock, the writes, COMMIT); a change that moves
//! money runs two transactions around its Wallet call.
//!
//! Each request is made once on another order first, so that its statements are already
//! prepared on the one pooled connection: preparing is a round trip paid once per
//! connection, not per request.

mod support;

use order_postgres::test_db::{RoundTrips, TestDatabase};
use serde_json::{json, Value};
use support::*;

/// The service on one pooled connection through the counting relay.
async fn counted_app() -> (TestApp, RoundTrips) {
    let db = TestDatabase::new();
    let relay = RoundTrips::start(&db).await;
    let url = relay.url().to_owned();
    let app = TestApp::spawn_on(
        db,
        seed(20, "10000.00"),
        &[("DATABASE_URL", &url), ("DB_POOL_SIZE", "1")],
    )
    .await;
    (app, relay)
}

/// The round trips of `request` on its second run: the first, on `warm_up`, prepares.
async fn round_trips_of<F>(relay: &RoundTrips, warm_up: Value, measured: Value, request: F) -> u64
where
    F: AsyncFn(&Value) -> Answer,
{
    let answer = request(&warm_up).await;
    assert!(answer.status.is_success(), "{}", answer.body);
    relay.take();
    let answer = request(&measured).await;
    assert!(answer.status.is_success(), "{}", answer.body);
    relay.take()
}

#[tokio::test]
async fn a_detail_read_is_one_round_trip() {
    let (app, relay) = counted_app().await;
    let (a, b) = (
        app.paid_order(listing(1), "50.00").await,
        app.paid_order(listing(2), "50.00").await,
    );
    let trips = round_trips_of(&relay, a, b, async |order| {
        app.get(&format!("/api/v1/orders/{}/", id(order)), &As::buyer())
            .await
    })
    .await;
    assert_eq!(trips, 1);
}

#[tokio::test]
async fn a_numbered_list_page_and_its_count_are_one_round_trip() {
    let (app, relay) = counted_app().await;
    app.paid_order(listing(1), "50.00").await;
    let lists = [
        ("/api/v1/orders/", As::buyer()),
        ("/api/v1/orders/?role=seller", As::seller()),
        ("/api/v1/orders/?status=PAID", As::admin()),
        ("/api/v1/disputes/", As::admin()),
    ];
    for (path, who) in lists {
        let trips = round_trips_of(&relay, json!(null), json!(null), async |_| {
            app.get(path, &who).await
        })
        .await;
        assert_eq!(trips, 1, "{path}");
    }
}

#[tokio::test]
async fn every_transition_is_at_most_four_round_trips_a_transaction() {
    let (app, relay) = counted_app().await;
    let post = async |path: String, who: As, body: Value| app.post(&path, &who, body).await;

    let (a, b) = (
        app.paid_order(listing(1), "50.00").await,
        app.paid_order(listing(2), "50.00").await,
    );
    let ship = round_trips_of(&relay, a.clone(), b.clone(), async |order| {
        let body = json!({"tracking_number": "1Z-1", "carrier": "UPS"});
        post(
            format!("/api/v1/orders/{}/ship/", id(order)),
            As::seller(),
            body,
        )
        .await
    })
    .await;
    assert!(ship <= 4, "ship: {ship}");

    let deliver = round_trips_of(&relay, a.clone(), b.clone(), async |order| {
        let body = json!({"order_id": order["id"]});
        post(
            "/api/v1/orders/internal/mark-delivered/".into(),
            As::Service,
            body,
        )
        .await
    })
    .await;
    assert!(deliver <= 4, "deliver: {deliver}");

    let dispute = round_trips_of(&relay, a.clone(), b.clone(), async |order| {
        let body = json!({"reason": "It arrived broken."});
        post(
            format!("/api/v1/orders/{}/dispute/", id(order)),
            As::buyer(),
            body,
        )
        .await
    })
    .await;
    assert!(dispute <= 4, "dispute: {dispute}");

    let disputes = app.get("/api/v1/disputes/", &As::admin()).await.body["results"]
        .as_array()
        .unwrap()
        .clone();
    let (first, second) = (disputes[1].clone(), disputes[0].clone());
    let evidence = round_trips_of(&relay, first.clone(), second.clone(), async |dispute| {
        let body = json!({"urls": ["https://img.example.com/box.jpg"]});
        post(
            format!("/api/v1/disputes/{}/evidence/", id(dispute)),
            As::seller(),
            body,
        )
        .await
    })
    .await;
    assert!(evidence <= 4, "evidence: {evidence}");

    let notes = round_trips_of(&relay, first, second, async |dispute| {
        let path = dispute_path(dispute);
        app.patch(&path, &As::admin(), json!({"status": "REVIEW"}))
            .await
    })
    .await;
    assert!(notes <= 4, "dispute update: {notes}");

    let (c, d) = (
        app.auction_win(listing(3), "5.00").await,
        app.auction_win(listing(4), "5.00").await,
    );
    let cancel = round_trips_of(&relay, c, d, async |order| {
        let body = json!({"order_id": order["id"], "reason": "The winner withdrew."});
        post("/api/v1/orders/internal/cancel/".into(), As::Service, body).await
    })
    .await;
    assert!(cancel <= 4, "cancel: {cancel}");

    let create = round_trips_of(&relay, json!(5), json!(6), async |n| {
        let body = json!({"listing_id": listing(n.as_u64().unwrap().into()), "buyer_id": Cast::buyer(),
                          "seller_id": Cast::seller(), "amount": "5.00"});
        post("/api/v1/orders/internal/create/".into(), As::Service, body).await
    })
    .await;
    assert!(create <= 4, "create: {create}");
}

#[tokio::test]
async fn a_change_that_moves_money_is_two_transactions_of_at_most_four() {
    let (app, relay) = counted_app().await;
    let (a, b) = (
        app.shipped_order(listing(1), "50.00").await,
        app.shipped_order(listing(2), "50.00").await,
    );
    let complete = round_trips_of(&relay, a, b, async |order| app.complete(order).await).await;
    assert!(complete <= 8, "complete: {complete}");
}
