//! The order's story over HTTP: an order's history (each event, its actor, its details, for the
//! parties and admins only, never an admin's notes) and the replay feed, which a consumer
//! pages while writers commit and still sees every event once, each order's in sequence.

mod support;

use std::collections::{HashMap, HashSet};

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{dispute_path, id, listing, results, seed, As, Cast, TestApp};

async fn history(app: &TestApp, order: &Value, who: &As) -> support::Answer {
    app.get(&format!("/api/v1/orders/{}/history/", id(order)), who)
        .await
}

#[tokio::test]
async fn an_orders_history_tells_each_event_who_did_it_and_what_it_added() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    let dispute = app
        .open_dispute(&order, Cast::buyer(), "The parcel was empty.")
        .await;
    let path = dispute_path(&dispute);
    app.add_evidence(
        &dispute,
        Cast::seller(),
        "https://img.example.com/packed.jpg",
    )
    .await;
    let admin = As::admin();
    app.patch(
        &path,
        &admin,
        json!({"admin_notes": "Seller looks honest; ask buyer."}),
    )
    .await;
    let resolved = app
        .patch(
            &path,
            &admin,
            json!({"status": "RESOLVED", "resolution": "PARTIAL_REFUND", "refund_amount": "30.00"}),
        )
        .await;
    resolved.assert_status(StatusCode::OK);

    let answer = history(&app, &order, &As::buyer()).await;
    answer.assert_status(StatusCode::OK);
    let entries = answer.body["results"].as_array().unwrap();
    assert_eq!(answer.body["count"], entries.len());
    let line = |e: &Value| {
        (
            e["sequence"].as_u64().unwrap(),
            e["event_type"].as_str().unwrap().to_owned(),
            e["actor"]["type"].as_str().unwrap().to_owned(),
            e["from_status"].as_str().unwrap().to_owned(),
            e["to_status"].as_str().unwrap().to_owned(),
        )
    };
    let story: Vec<_> = entries.iter().map(line).collect();
    let expected = [
        (
            1,
            "order.created",
            "service",
            "PENDING_PAYMENT",
            "PENDING_PAYMENT",
        ),
        (2, "order.paid", "service", "PENDING_PAYMENT", "PAID"),
        (3, "order.shipped", "seller", "PAID", "SHIPPED"),
        (4, "order.disputed", "buyer", "SHIPPED", "DISPUTED"),
        (
            5,
            "dispute.evidence_added",
            "seller",
            "DISPUTED",
            "DISPUTED",
        ),
        (6, "dispute.updated", "admin", "DISPUTED", "DISPUTED"),
        (7, "order.completed", "admin", "DISPUTED", "COMPLETED"),
        (8, "dispute.resolved", "admin", "COMPLETED", "COMPLETED"),
    ]
    .map(|(n, event, actor, from, to)| {
        (
            n,
            event.to_owned(),
            actor.to_owned(),
            from.to_owned(),
            to.to_owned(),
        )
    });
    assert_eq!(story, expected);

    assert_eq!(entries[2]["actor"]["id"], Cast::seller().to_string());
    assert_eq!(entries[0]["actor"]["id"], Value::Null);
    assert_eq!(entries[2]["details"]["tracking_number"], "1Z-999");
    assert_eq!(entries[3]["details"]["reason"], "The parcel was empty.");
    assert_eq!(entries[3]["details"]["dispute_id"], dispute["id"]);
    assert_eq!(
        entries[4]["details"]["urls"],
        json!(["https://img.example.com/packed.jpg"])
    );
    let settlement = &entries[6]["details"]["settlement"];
    assert_eq!(
        settlement,
        &json!({"buyer_refund": "30.00", "seller_amount": "76.50", "fee_amount": "3.50"}),
        "110.00: 30.00 back, 5 % of the 70.00 of the amount kept, the rest to the seller"
    );
    assert_eq!(entries[7]["details"]["resolution"], "PARTIAL_REFUND");
    assert_eq!(entries[7]["details"]["refund_amount"], "30.00");
    assert!(
        !answer.body.to_string().contains("Seller looks honest"),
        "a participant never sees an admin's notes"
    );
    assert_eq!(history(&app, &order, &admin).await.body["count"], 8);
    assert_eq!(
        history(&app, &order, &As::stranger()).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_history_is_paged_as_drf_pages_are() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    let buyer = As::buyer();
    let path = format!("/api/v1/orders/{}/history/?page_size=2&page=2", id(&order));
    let page = app.get(&path, &buyer).await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.body["count"], 3);
    assert_eq!(page.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["results"][0]["sequence"], 3);
    assert!(page.body["previous"].is_string() && page.body["next"].is_null());
    let cursor = format!("/api/v1/orders/{}/history/?cursor=", id(&order));
    assert_eq!(
        app.get(&cursor, &buyer).await.status,
        StatusCode::BAD_REQUEST
    );
}

async fn feed(app: &TestApp, after: u64, limit: u64) -> Value {
    let answer = app
        .get(
            &format!("/api/v1/orders/internal/events/?after={after}&limit={limit}"),
            &As::Service,
        )
        .await;
    answer.assert_status(StatusCode::OK);
    answer.body
}

#[tokio::test]
async fn the_feed_refuses_bad_parameters_and_users() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    for query in [
        "after=-1",
        "after=x",
        // Past the last position a BIGINT holds, as the document's int64 says.
        "after=9223372036854775808",
        "limit=0",
        "limit=501",
        "limit=many",
        "since=3",
    ] {
        let answer = app
            .get(
                &format!("/api/v1/orders/internal/events/?{query}"),
                &As::Service,
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            answer.body
        );
    }
    let user = app
        .get("/api/v1/orders/internal/events/", &As::admin())
        .await;
    user.assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consumer_paging_while_writers_commit_sees_every_event_once_in_each_orders_sequence() {
    const WRITERS: u128 = 6;
    const ORDERS_EACH: u128 = 5;
    let app = std::sync::Arc::new(TestApp::spawn(seed(0, "100000.00")).await);
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let app = app.clone();
            tokio::spawn(async move {
                for n in 0..ORDERS_EACH {
                    let order = app.shipped_order(listing(100 * writer + n), "10.00").await;
                    app.complete(&order).await;
                }
            })
        })
        .collect();
    let mut seen: Vec<Value> = Vec::new();
    let mut after = 0;
    let mut writing = true;
    while writing {
        writing = !writers.iter().all(|w| w.is_finished());
        loop {
            let page = feed(&app, after, 7).await;
            let results = page["results"].as_array().unwrap();
            after = page["next_after"].as_u64().unwrap();
            seen.extend(results.iter().cloned());
            if results.is_empty() {
                break;
            }
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }
    // One last page once everything is committed.
    loop {
        let page = feed(&app, after, 100).await;
        let results = page["results"].as_array().unwrap();
        after = page["next_after"].as_u64().unwrap();
        if results.is_empty() {
            break;
        }
        seen.extend(results.iter().cloned());
    }

    let ids: Vec<&str> = seen
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "no event twice");
    let orders = (WRITERS * ORDERS_EACH) as i64;
    assert_eq!(
        ids.len() as i64,
        orders * 4,
        "created, paid, shipped, completed each"
    );
    assert_eq!(app.count("outbox", "true").await, orders * 4, "every event");
    let positions: Vec<u64> = seen
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "in position order"
    );
    let mut by_order: HashMap<String, Vec<u64>> = HashMap::new();
    for event in &seen {
        assert_eq!(
            event["detail"]["event_id"], event["event_id"],
            "the published document"
        );
        by_order
            .entry(event["order_id"].as_str().unwrap().to_owned())
            .or_default()
            .push(event["sequence"].as_u64().unwrap());
    }
    for (order, sequence) in by_order {
        assert_eq!(
            sequence,
            [1, 2, 3, 4],
            "order {order}: 1..n, no gap, in order"
        );
    }
}

#[tokio::test]
async fn each_caller_is_told_what_it_may_do_and_events_are_not() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let order = app.paid_order(listing(1), "100.00").await;
    assert_eq!(
        order["allowed_actions"],
        json!([]),
        "a service may do none of it"
    );
    let path = format!("/api/v1/orders/{}/", id(&order));
    let read = |who: As| {
        let (app, path) = (&app, &path);
        async move { app.get(path, &who).await.body["allowed_actions"].clone() }
    };
    assert_eq!(
        read(As::seller()).await,
        json!(["cancel", "dispute", "refund", "ship"])
    );
    assert_eq!(
        read(As::buyer()).await,
        json!(["dispute"]),
        "not yet past ship_by"
    );
    assert_eq!(
        read(As::admin()).await,
        json!(["cancel", "extend", "refund"]),
        "an admin's operator actions"
    );
    let dispute = app
        .open_dispute(&order, Cast::buyer(), "Changed my mind entirely.")
        .await;
    assert_eq!(
        dispute["allowed_actions"],
        json!(["add_evidence"]),
        "the buyer's"
    );
    let as_admin = app.get(&dispute_path(&dispute), &As::admin()).await;
    assert_eq!(as_admin.body["allowed_actions"], json!(["update"]));
    let events = feed(&app, 0, 100).await;
    for event in events["results"].as_array().unwrap() {
        assert!(
            event["detail"]["order"].get("allowed_actions").is_none(),
            "{event}"
        );
    }
}

/// The settlement an order's money event recorded in its history, checked to sum to the
/// order's total; with the event's actor.
async fn settled(app: &TestApp, order: &Value, event: &str) -> (Value, String) {
    let entries = history(app, order, &As::admin()).await.body["results"]
        .as_array()
        .unwrap()
        .clone();
    let entry = entries
        .iter()
        .find(|e| e["event_type"] == event)
        .unwrap_or_else(|| panic!("no {event} in {entries:?}"));
    let settlement = entry["details"]["settlement"].clone();
    let cents = |name: &str| -> i64 {
        let text = settlement[name].as_str().unwrap().replace('.', "");
        text.parse().unwrap()
    };
    let total = app.order_now(order).await["total"]
        .as_str()
        .unwrap()
        .replace('.', "")
        .parse::<i64>()
        .unwrap();
    assert_eq!(
        cents("buyer_refund") + cents("seller_amount") + cents("fee_amount"),
        total,
        "{event}: {settlement}"
    );
    (
        settlement,
        entry["actor"]["type"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn every_payout_records_a_settlement_that_sums_to_the_total() {
    let app = TestApp::spawn_with(
        seed(0, "10000.00"),
        &[
            ("AUTO_COMPLETE_AFTER", "1s"),
            ("SHIP_WITHIN", "1s"),
            ("DEADLINE_INTERVAL", "100ms"),
        ],
    )
    .await;
    let admin = As::admin();
    for (n, resolution, refund, event, refunded) in [
        (1, "REFUND_BUYER", None, "order.refunded", "110.00"),
        (2, "RELEASE_SELLER", None, "order.completed", "0.00"),
        (
            3,
            "PARTIAL_REFUND",
            Some("12.34"),
            "order.completed",
            "12.34",
        ),
    ] {
        let order = app.shipped_order(listing(n), "100.00").await;
        let dispute = app
            .open_dispute(&order, Cast::buyer(), "Not as described at all.")
            .await;
        let mut body = json!({"status": "RESOLVED", "resolution": resolution});
        if let Some(refund) = refund {
            body["refund_amount"] = json!(refund);
        }
        let answer = app.patch(&dispute_path(&dispute), &admin, body).await;
        answer.assert_status(StatusCode::OK);
        let (settlement, actor) = settled(&app, &order, event).await;
        assert_eq!(settlement["buyer_refund"], refunded, "{resolution}");
        assert_eq!(actor, "admin");
    }

    let confirmed = app.shipped_order(listing(4), "100.00").await;
    app.complete(&confirmed).await;
    let (settlement, actor) = settled(&app, &confirmed, "order.completed").await;
    assert_eq!(
        (settlement["fee_amount"].as_str(), actor.as_str()),
        (Some("5.00"), "buyer")
    );

    let unconfirmed = app.shipped_order(listing(5), "100.00").await;
    let late = app.paid_order(listing(6), "100.00").await;
    let _workers = app.start_workers();
    let (app, watched) = (&app, &unconfirmed);
    support::wait_until("the automatic completion", || async move {
        app.order_now(watched).await["status"] == "COMPLETED"
    })
    .await;
    let (_, actor) = settled(app, &unconfirmed, "order.completed").await;
    assert_eq!(actor, "system");
    support::wait_until("the late shipment announced", || async move {
        app.count("outbox", "event_type = 'order.ship_overdue'")
            .await
            == 1
    })
    .await;
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{}/cancel/", id(&late)),
            &As::buyer(),
            json!({"reason": "Never shipped."}),
        )
        .await;
    cancelled.assert_status(StatusCode::OK);
    let (settlement, actor) = settled(app, &late, "order.cancelled").await;
    assert_eq!(
        (settlement["buyer_refund"].as_str(), actor.as_str()),
        (Some("110.00"), "buyer")
    );
    let overdue = results(&history(app, &late, &As::buyer()).await.body)
        .iter()
        .find(|e| e["event_type"] == "order.ship_overdue")
        .cloned()
        .unwrap();
    assert_eq!(overdue["actor"], json!({"type": "system", "id": null}));
    assert!(overdue["details"]["ship_by"].is_string());
    app.ledger().await;
}

/// The history's entry of `event` for `order`, as its buyer reads it.
async fn entry(app: &TestApp, order: &Value, event: &str) -> Value {
    results(&history(app, order, &As::buyer()).await.body)
        .iter()
        .find(|e| e["event_type"] == event)
        .cloned()
        .unwrap_or_else(|| panic!("no {event}"))
}

#[tokio::test]
async fn services_and_the_system_appear_in_the_history_as_such() {
    let app = TestApp::spawn_with(
        seed(0, "1000.00"),
        &[
            ("DISPUTE_RESPONSE_WINDOW", "1s"),
            ("DEADLINE_INTERVAL", "100ms"),
        ],
    )
    .await;
    let delivered = app.shipped_order(listing(1), "100.00").await;
    app.internal("mark-delivered", json!({"order_id": delivered["id"]}))
        .await;
    let line = entry(&app, &delivered, "order.delivered").await;
    assert_eq!(line["actor"], json!({"type": "service", "id": null}));
    assert_eq!(
        (line["from_status"].as_str(), line["to_status"].as_str()),
        (Some("SHIPPED"), Some("DELIVERED"))
    );
    assert!(line["details"]["delivered_at"].is_string());

    let unpaid = app.auction_win(listing(2), "5.00").await;
    app.internal(
        "cancel",
        json!({"order_id": unpaid["id"], "reason": "The winner withdrew."}),
    )
    .await;
    let line = entry(&app, &unpaid, "order.cancelled").await;
    assert_eq!(line["actor"]["type"], "service");
    assert_eq!(line["details"], json!({"reason": "The winner withdrew."}));

    let silent = app.shipped_order(listing(3), "100.00").await;
    app.open_dispute(&silent, Cast::buyer(), "Nobody answers me.")
        .await;
    let _workers = app.start_workers();
    let (app, watched) = (&app, &silent);
    support::wait_until("the escalation", || async move {
        app.order_now(watched).await["dispute"]["status"] == "REVIEW"
    })
    .await;
    let line = entry(app, &silent, "dispute.escalated").await;
    assert_eq!(line["actor"], json!({"type": "system", "id": null}));
    assert_eq!(
        (line["from_status"].as_str(), line["to_status"].as_str()),
        (Some("DISPUTED"), Some("DISPUTED"))
    );
    assert_eq!(line["details"]["dispute_status"], "REVIEW");
    assert_eq!(
        line["sequence"], 5,
        "created, paid, shipped, disputed, escalated"
    );
}
