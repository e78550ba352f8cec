//! What an operator relies on: metrics that move with the traffic, and a readiness probe
//! that follows the database, and a pool that heals by itself when the database restarts.

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use support::tcp_proxy::TcpProxy;
use support::{id, listing, seed, As, TestApp};

#[tokio::test]
async fn metrics_follow_requests_peers_transitions_and_the_outbox() {
    let app = TestApp::spawn(seed(1, "1000.00")).await;
    let order = app.shipped_order(listing(2), "10.00").await;
    app.post(
        &format!("/api/v1/orders/{}/complete/", order["id"].as_str().unwrap()),
        &As::buyer(),
        json!({}),
    )
    .await;
    app.purchase(listing(1)).await;
    app.get(
        &format!("/api/v1/orders/{}/", support::uuid(1)),
        &As::buyer(),
    )
    .await;

    for series in [
        "order_service_http_requests_total",
        "order_service_http_request_duration_seconds_count",
        "order_service_db_pool_connections",
        "order_service_peer_requests_total",
        "order_service_peer_request_duration_seconds_count",
        "order_service_order_transitions_total",
        "order_service_outbox_pending_rows",
        "order_service_outbox_lag_seconds",
    ] {
        let value = app
            .metric(series)
            .await
            .unwrap_or_else(|| panic!("{series} is missing"));
        assert!(value > 0.0, "{series} = {value}");
    }
    let text = app
        .get("/metrics", &As::Nobody)
        .await
        .body
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains(r#"order_service_order_transitions_total{event="order.shipped"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"peer="wallet",operation="release_escrow",outcome="ok""#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/orders/{id}/",method="GET",status="404""#),
        "{text}"
    );

    // Once the relay runs, the outbox drains and the publications are counted.
    let _workers = app.start_workers();
    let started = Instant::now();
    // The relay counts its publications once its step has committed them: both must show.
    while app.metric("order_service_outbox_pending_rows").await != Some(0.0)
        || app
            .metric("order_service_outbox_published_events_total")
            .await
            == Some(0.0)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the relay drains the outbox and counts it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.metric("order_service_outbox_lag_seconds").await,
        Some(0.0)
    );
    assert_eq!(
        app.metric("order_service_outbox_parked_rows").await,
        Some(0.0)
    );
}

#[tokio::test]
async fn readiness_turns_unready_without_the_database_and_ready_again_after() {
    let db = order_postgres::test_db::TestDatabase::new();
    let (server, name) = db.url().rsplit_once('/').unwrap();
    let (_, port) = server.rsplit_once(':').unwrap();
    let proxy = TcpProxy::start(port.parse().unwrap()).await;
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", proxy.port);
    let app = TestApp::spawn_with(seed(0, "1.00"), &[("DATABASE_URL", url.as_str())]).await;
    assert_eq!(app.get("/readyz", &As::Nobody).await.status, StatusCode::OK);

    proxy.cut();
    let unready = app.get("/readyz", &As::Nobody).await;
    assert_eq!(
        unready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        unready.body
    );
    assert!(unready.headers.contains_key("retry-after"));
    let listed = app.get("/api/v1/orders/", &As::buyer()).await;
    assert_eq!(
        listed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "a request needing the database: 503, not 500"
    );
    assert_eq!(
        app.get("/healthz", &As::Nobody).await.status,
        StatusCode::OK,
        "alive all the same"
    );

    proxy.restore();
    let started = Instant::now();
    while app.get("/readyz", &As::Nobody).await.status != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "ready again once the database is back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(db);
}

/// Ends every session the service has open on its database, as a restarted server does.
async fn end_every_session(app: &TestApp) -> i64 {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Ended {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        ended: i64,
    }
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    diesel::sql_query(
        "SELECT count(pg_terminate_backend(pid)) AS ended FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .get_result::<Ended>(&mut conn)
    .await
    .unwrap()
    .ended
}

#[tokio::test]
async fn the_service_heals_by_itself_when_the_database_ends_its_connections() {
    let app = TestApp::spawn_with(seed(3, "1000.00"), &[("DB_POOL_SIZE", "4")]).await;
    let order = app.paid_order(listing(1), "50.00").await;
    let detail = format!("/api/v1/orders/{}/", id(&order));
    // Several idle connections in the pool, all of which the restart will kill.
    let buyer = As::buyer();
    let reads = (0..4).map(|_| app.get(&detail, &buyer));
    futures_util::future::join_all(reads).await;

    assert!(end_every_session(&app).await >= 1);
    let shipped = app.ship(&order, "1Z-1", "UPS").await;
    assert_eq!(
        shipped.status,
        StatusCode::OK,
        "a write whose transaction had not begun: {}",
        shipped.body
    );

    end_every_session(&app).await;
    let read = app.get(&detail, &As::buyer()).await;
    assert_eq!(read.status, StatusCode::OK, "a read: {}", read.body);
    assert_eq!(read.body["status"], "SHIPPED");

    end_every_session(&app).await;
    let listed = app.get("/api/v1/orders/", &As::buyer()).await;
    listed.assert_status(StatusCode::OK);
    assert_eq!(listed.body["count"], 1);
}

#[tokio::test]
async fn with_a_read_replica_lists_and_histories_read_it_and_everything_else_the_primary() {
    // The "replica" here is an empty database of the same schema: whatever is read from it
    // shows no orders, so each answer tells which database it came from.
    let replica = order_postgres::test_db::TestDatabase::new();
    let app =
        TestApp::spawn_with(seed(0, "1000.00"), &[("DATABASE_READ_URL", replica.url())]).await;
    let order = app.shipped_order(listing(1), "10.00").await;
    let buyer = As::buyer();

    let detail = app
        .get(&format!("/api/v1/orders/{}/", id(&order)), &buyer)
        .await;
    assert_eq!(
        detail.status,
        StatusCode::OK,
        "a detail read is the primary's"
    );
    assert_eq!(detail.body["status"], "SHIPPED");
    let completed = app
        .post(
            &format!("/api/v1/orders/{}/complete/", id(&order)),
            &buyer,
            json!({}),
        )
        .await;
    assert_eq!(
        completed.status,
        StatusCode::OK,
        "a change is the primary's"
    );

    let list = app.get("/api/v1/orders/", &buyer).await;
    list.assert_status(StatusCode::OK);
    assert_eq!(list.body["count"], 0, "the list came from the replica");
    let admin = As::admin();
    assert_eq!(app.get("/api/v1/disputes/", &admin).await.body["count"], 0);
    let history = app
        .get(&format!("/api/v1/orders/{}/history/", id(&order)), &buyer)
        .await;
    history.assert_status(StatusCode::OK);
    assert_eq!(
        history.body["count"], 0,
        "the history came from the replica"
    );
}

/// Every sample line of `/metrics` with `name` and a label `label="value"`, summed.
async fn labelled(app: &TestApp, name: &str, label: &str) -> Option<f64> {
    let text = app.get("/metrics", &As::Nobody).await.body;
    text.as_str()
        .unwrap()
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) && line.contains(label))
        .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
        .reduce(|sum: f64, value| sum + value)
}

#[tokio::test]
async fn the_deadline_backlog_shows_a_sweep_left_behind_until_its_worker_catches_up() {
    let app = &TestApp::spawn_with(
        seed(0, "1000.00"),
        &[("PAYMENT_WINDOW", "1s"), ("DEADLINE_INTERVAL", "100ms")],
    )
    .await;
    let series = "order_service_deadline_overdue_seconds";
    let unpaid = r#"sweep="unpaid_auction""#;
    app.auction_win(listing(1), "100.00").await;
    assert_eq!(
        labelled(app, series, unpaid).await,
        Some(0.0),
        "not due yet"
    );
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let behind = labelled(app, series, unpaid).await.unwrap();
    assert!(
        (1.0..60.0).contains(&behind),
        "no worker runs: {behind} s behind"
    );
    for other in ["late_shipment", "due_completion", "unanswered_dispute"] {
        assert_eq!(
            labelled(app, series, &format!(r#"sweep="{other}""#)).await,
            Some(0.0),
            "{other}"
        );
    }

    let _workers = app.start_workers();
    support::wait_until("the sweep catches up", || async move {
        labelled(app, series, unpaid).await == Some(0.0)
    })
    .await;
}

/// The metric names a text mentions: `order_service_` and what follows, up to the first
/// character a metric name cannot hold.
fn series_named_in(text: &str) -> Vec<String> {
    text.match_indices("order_service_")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// The recording rules a text uses: `order_service:` and what follows.
fn recorded_named_in(text: &str) -> Vec<String> {
    text.match_indices("order_service:")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect()
        })
        .collect()
}

fn monitoring(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../monitoring")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn every_series_the_alerts_and_the_dashboard_read_is_exported() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let text = app.get("/metrics", &As::Nobody).await.body;
    // A family is exported, with its samples' names, even before it has a sample.
    let mut exported = std::collections::BTreeSet::new();
    for line in text.as_str().unwrap().lines() {
        let mut words = line.strip_prefix("# TYPE ").unwrap_or("").split(' ');
        let (Some(family), Some(kind)) = (words.next(), words.next()) else {
            continue;
        };
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[""],
        };
        exported.extend(suffixes.iter().map(|suffix| format!("{family}{suffix}")));
    }
    assert!(exported.len() > 30, "{exported:?}");

    let rules = monitoring("prometheus/order-service.rules.yml");
    let recorded: Vec<String> = rules
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- record: "))
        .map(str::to_owned)
        .collect();
    let dashboard = monitoring("grafana/order-service.json");
    for (file, text) in [("rules", &rules), ("dashboard", &dashboard)] {
        for series in series_named_in(text) {
            assert!(
                exported.contains(&series),
                "{file} reads {series}: not in /metrics"
            );
        }
        for rule in recorded_named_in(text) {
            assert!(
                recorded.contains(&rule),
                "{file} reads {rule}: no rule records it"
            );
        }
    }
    // What the alerts watch is on the dashboard.
    for rule in &recorded {
        assert!(
            dashboard.contains(rule.as_str()),
            "{rule} is not on the dashboard"
        );
    }
}
