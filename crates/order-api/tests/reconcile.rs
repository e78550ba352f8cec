//! `order-api reconcile` against the stand-in Wallet over HTTP: a clean world exits 0, each
//! kind of drift made on purpose is found and named (exit 1), a Wallet that cannot be read
//! gives no clean bill (exit 2), and an order waiting on the Wallet is in flight, not drift.

mod support;

use serde_json::{json, Value};
use support::{id, listing, seed, As, TestApp};

/// What a run of `order-api reconcile ARGS…` printed, and its exit code.
struct Run {
    code: i32,
    stdout: String,
}

impl Run {
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    fn json_lines(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?} is not JSON: {e}"))
            })
            .collect()
    }
}

async fn reconcile(app: &TestApp, args: &[&str]) -> Run {
    let mut all = vec!["reconcile"];
    all.extend_from_slice(args);
    let output = app.run_binary_output(&all).await;
    Run {
        code: output.status.code().expect("exited"),
        stdout: String::from_utf8(output.stdout).unwrap(),
    }
}

fn escrow(order: &Value) -> String {
    order["escrow_id"].as_str().unwrap().to_owned()
}

async fn drift(app: &TestApp, order: &Value, change: Value) {
    app.stub_post(&format!("/_stub/escrows/{}/drift/", escrow(order)), change)
        .await;
}

/// A paid order, a completed one, one refunded by a dispute, one settled in part by a
/// dispute, one cancelled after payment, and one never paid.
async fn every_kind_of_order(app: &TestApp) -> Vec<Value> {
    let paid = app.paid_order(listing(1), "100.00").await;
    let completed = app.shipped_order(listing(2), "100.00").await;
    assert_eq!(app.complete(&completed).await.status, 200);
    let mut orders = vec![paid, app.order_now(&completed).await];
    for (n, resolution) in [
        (3, json!({"resolution": "REFUND_BUYER"})),
        (
            4,
            json!({"resolution": "PARTIAL_REFUND", "refund_amount": "30.00"}),
        ),
    ] {
        let dispute = app.disputed_order(listing(n), "100.00").await;
        let mut update = json!({"status": "RESOLVED"});
        update
            .as_object_mut()
            .unwrap()
            .extend(resolution.as_object().unwrap().clone());
        let answer = app.patch(&dispute, &As::admin(), update).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        orders.push(app.order_now(&json!({"id": answer.body["order_id"]})).await);
    }
    let cancelled = app.paid_order(listing(5), "100.00").await;
    let answer = app.cancel(&cancelled, &As::seller(), "Out of stock").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    orders.push(app.order_now(&cancelled).await);
    app.auction_win(listing(6), "100.00").await;
    let statuses: Vec<&str> = orders
        .iter()
        .map(|order| order["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["PAID", "COMPLETED", "REFUNDED", "COMPLETED", "CANCELLED"]
    );
    orders
}

#[tokio::test]
async fn a_world_where_the_books_agree_exits_0() {
    let app = TestApp::spawn(seed(6, "1000.00")).await;
    every_kind_of_order(&app).await;
    let run = reconcile(&app, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.lines()[0],
        "checked 5 orders: 5 agree, 0 in flight, 0 drift"
    );
}

#[tokio::test]
async fn each_kind_of_drift_is_named_with_its_order_and_escrow_and_exits_1() {
    let app = TestApp::spawn(seed(6, "1000.00")).await;
    let orders = every_kind_of_order(&app).await;
    let (paid, completed, refunded, partial) = (&orders[0], &orders[1], &orders[2], &orders[3]);
    drift(&app, paid, json!({"forget": true})).await;
    drift(
        &app,
        completed,
        json!({"seller_amount": "105.01", "fee_amount": "4.99"}),
    )
    .await;
    drift(&app, refunded, json!({"state": "RELEASED"})).await;
    drift(&app, partial, json!({"amount": "109.99"})).await;

    let run = reconcile(&app, &[]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let line_of = |order: &Value, kind: &str| {
        let prefix = format!("order {} escrow {} {kind}: ", id(order), escrow(order));
        run.lines()
            .into_iter()
            .find(|line| line.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {kind} line for {}:\n{}", id(order), run.stdout))
            .to_owned()
    };
    line_of(paid, "escrow_unknown");
    assert_eq!(
        line_of(completed, "split_mismatch"),
        format!(
            "order {} escrow {} split_mismatch: expected refund 0.00, seller 105.00, fee 5.00, \
             found refund 0.00, seller 105.01, fee 4.99",
            id(completed),
            escrow(completed)
        )
    );
    assert!(line_of(refunded, "state_mismatch").ends_with("expected REFUNDED, found RELEASED"));
    assert!(line_of(partial, "amount_mismatch").ends_with("expected 110.00, found 109.99"));
    assert!(
        run.stdout
            .contains("checked 5 orders: 1 agree, 0 in flight, 4 drift"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn json_output_is_one_object_a_line_ending_with_the_summary() {
    let app = TestApp::spawn(seed(6, "1000.00")).await;
    let orders = every_kind_of_order(&app).await;
    drift(&app, &orders[1], json!({"state": "HELD"})).await;

    let run = reconcile(&app, &["--json"]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert_eq!(
        lines[0],
        json!({"order_id": id(&orders[1]), "escrow_id": escrow(&orders[1]),
               "kind": "state_mismatch", "expected": "RELEASED", "found": "HELD"})
    );
    let summary = &lines[1]["summary"];
    assert_eq!(summary["checked"], 5);
    assert_eq!(summary["drifting"], 1);
    assert_eq!(summary["drift"], json!({"state_mismatch": 1}));
    assert_eq!(summary["clean"], false);
}

#[tokio::test]
async fn one_order_or_the_recently_changed_ones_can_be_reconciled_alone() {
    let app = TestApp::spawn(seed(6, "1000.00")).await;
    let orders = every_kind_of_order(&app).await;
    drift(&app, &orders[0], json!({"amount": "1.00"})).await;

    let one = reconcile(&app, &["--order", &id(&orders[2])]).await;
    assert_eq!(one.code, 0, "{}", one.stdout);
    assert!(
        one.stdout.starts_with("checked 1 orders: 1 agree"),
        "{}",
        one.stdout
    );
    let drifted = reconcile(&app, &["--order", &id(&orders[0])]).await;
    assert_eq!(drifted.code, 1, "{}", drifted.stdout);

    let recent = reconcile(&app, &["--since", "1h"]).await;
    assert_eq!(recent.code, 1, "{}", recent.stdout);
    assert!(
        recent.stdout.contains("checked 5 orders"),
        "{}",
        recent.stdout
    );
    let future = reconcile(&app, &["--since", "2999-01-01T00:00:00Z"]).await;
    assert_eq!(future.code, 0, "{}", future.stdout);
}

#[tokio::test]
async fn a_wallet_that_answers_503_gives_exit_2_and_no_clean_bill() {
    let app = TestApp::spawn(seed(6, "1000.00")).await;
    every_kind_of_order(&app).await;
    app.fault(json!({"target": "wallet", "mode": "unavailable"}))
        .await;

    let run = reconcile(&app, &[]).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(!run.stdout.contains("checked"), "{}", run.stdout);
    assert!(run.stdout.contains("no clean bill"), "{}", run.stdout);
    let json = reconcile(&app, &["--json"]).await;
    assert_eq!(json.code, 2);
    let lines = json.json_lines();
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["clean"], false);
    assert!(summary["error"].as_str().unwrap().contains("Wallet"));
}

#[tokio::test]
async fn an_order_waiting_on_the_wallet_is_in_flight_not_drift() {
    let app = TestApp::spawn(seed(6, "1000.00")).await;
    let order = app.shipped_order(listing(1), "100.00").await;
    // The Wallet released the escrow; the order does not say so yet.
    app.complete_cut_by_a_crash(&order, &[]).await;
    assert_eq!(app.pending_intents().await, 1);

    let run = reconcile(&app, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.lines()[0].starts_with(&format!(
            "order {} escrow {} in_flight: ",
            id(&order),
            escrow(&order)
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1 in flight, 0 drift"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn the_worker_exports_the_drift_of_recently_changed_orders_on_every_replica() {
    let app = TestApp::spawn_with(seed(6, "1000.00"), &[("RECONCILE_INTERVAL", "200ms")]).await;
    let orders = every_kind_of_order(&app).await;
    drift(&app, &orders[3], json!({"amount": "1.00"})).await;
    let _workers = app.start_workers();
    let replica = app.replica().await;
    let _replica_workers = replica.spawn_workers();

    support::wait_until("the worker finds the drift", || async {
        app.metric("order_service_reconcile_drift").await == Some(1.0)
    })
    .await;
    assert!(
        app.metric("order_service_reconcile_last_run_timestamp_seconds")
            .await
            > Some(0.0)
    );
    assert_eq!(app.count("worker_runs", "name = 'reconcile'").await, 1);

    app.stub_post(
        &format!("/_stub/escrows/{}/drift/", escrow(&orders[3])),
        json!({"amount": "110.00"}),
    )
    .await;
    support::wait_until("the worker sees it mended", || async {
        app.metric("order_service_reconcile_drift").await == Some(0.0)
    })
    .await;
}
