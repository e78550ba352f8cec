//! Requests racing on one order or one listing: exactly one wins, the other gets 409, and
//! money and events move exactly once.

mod support;

use futures_util::future::join_all;
use serde_json::json;
use support::{id, listing, one_winner, seed, As, Cast, TestApp};

const PAIRS: u128 = 20;

#[tokio::test]
async fn complete_racing_dispute_ends_with_one_winner_and_one_payout_at_most() {
    let app = TestApp::spawn(seed(0, "100000.00")).await;
    let mut orders = Vec::new();
    for n in 1..=PAIRS {
        orders.push(app.shipped_order(listing(n), "100.00").await);
    }
    let races = orders.iter().map(|order| async {
        let path = format!("/api/v1/orders/{}/", id(order));
        let (complete_path, dispute_path) = (format!("{path}complete/"), format!("{path}dispute/"));
        let buyer = As::buyer();
        let (complete, dispute) = tokio::join!(
            app.post(&complete_path, &buyer, json!({})),
            app.post(
                &dispute_path,
                &buyer,
                json!({"reason": "Changed my mind, sorry."})
            ),
        );
        (
            id(order),
            one_winner([complete.status, dispute.status], "complete vs dispute"),
        )
    });
    let outcomes = join_all(races).await;

    let completed = outcomes.iter().filter(|(_, winner)| *winner == 0).count();
    for (order, winner) in &outcomes {
        let last = if *winner == 0 {
            "order.completed"
        } else {
            "order.disputed"
        };
        assert_eq!(
            app.events_of(order).await,
            ["order.created", "order.paid", "order.shipped", last]
        );
    }
    let ledger = app.ledger().await;
    let seller = format!("{:.2}", 105.0 * completed as f64);
    assert_eq!(
        app.balance(Cast::seller()).await,
        seller,
        "released once per completed order"
    );
    let held = format!("{:.2}", 110.0 * (PAIRS as usize - completed) as f64);
    assert_eq!(ledger["held"], held, "disputed orders keep their escrow");
    app.assert_counts_exact().await;
}

#[tokio::test]
async fn two_ships_at_once_ship_once() {
    let app = TestApp::spawn(seed(0, "100000.00")).await;
    let mut orders = Vec::new();
    for n in 1..=PAIRS {
        orders.push(app.paid_order(listing(n), "10.00").await);
    }
    let races = orders.iter().map(|order| async {
        let path = format!("/api/v1/orders/{}/ship/", id(order));
        let seller = As::seller();
        let (a, b) = tokio::join!(
            app.post(
                &path,
                &seller,
                json!({"tracking_number": "A-1", "carrier": "DHL"})
            ),
            app.post(
                &path,
                &seller,
                json!({"tracking_number": "B-2", "carrier": "UPS"})
            ),
        );
        let winner = one_winner([a.status, b.status], "double ship");
        let loser = if winner == 0 { &b } else { &a };
        assert_eq!(
            (loser.body["code"].clone(), loser.body["status"].clone()),
            (json!("invalid_transition"), json!("SHIPPED"))
        );
        id(order)
    });
    for order in join_all(races).await {
        assert_eq!(
            app.events_of(&order).await,
            ["order.created", "order.paid", "order.shipped"]
        );
    }
    app.assert_counts_exact().await;
}

#[tokio::test]
async fn two_buyers_of_one_listing_make_one_order_and_one_debit() {
    let app = TestApp::spawn(seed(PAIRS, "100000.00")).await;
    let races = (1..=PAIRS).map(|n| {
        let app = &app;
        async move {
            let path = format!("/api/v1/orders/{}/purchase/", listing(n));
            let (buyer, stranger) = (As::buyer(), As::stranger());
            let (a, b) = tokio::join!(
                app.post(&path, &buyer, json!({})),
                app.post(&path, &stranger, json!({})),
            );
            one_winner([a.status, b.status], "two buyers")
        }
    });
    let winners = join_all(races).await;
    let buyer_wins = winners.iter().filter(|w| **w == 0).count() as f64;
    let ledger = app.ledger().await;
    assert_eq!(
        ledger["held"],
        format!("{:.2}", 135.0 * PAIRS as f64),
        "one hold per listing"
    );
    assert_eq!(
        app.balance(Cast::buyer()).await,
        format!("{:.2}", 100000.0 - 135.0 * buyer_wins)
    );
    assert_eq!(
        app.balance(Cast::stranger()).await,
        format!("{:.2}", 100000.0 - 135.0 * (PAIRS as f64 - buyer_wins))
    );
    assert_eq!(app.count("orders", "true").await, PAIRS as i64);
    assert_eq!(
        app.count("outbox", "event_type = 'order.paid'").await,
        PAIRS as i64
    );
    app.assert_counts_exact().await;
}
